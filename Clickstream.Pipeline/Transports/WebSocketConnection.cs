using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Raccoon;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// One open <see cref="ClientWebSocket"/> to the collector: one sender at a time (the socket allows one send and one
/// receive in flight), one receive loop that matches each response to its batch by <c>data.req_guid</c>, and the batches
/// in flight on it, which all fail at once, with the same reason, when the connection ends.
/// </summary>
/// <remarks>
/// The connection ends once (<see cref="End"/>): the receive loop ends it when the socket breaks, the server closes it or
/// refuses it; the transport ends it when disposed. Ending tells the owner first (so that its reconnect backoff is set
/// before any batch sees its failure), fails every batch in flight, then closes the socket in the background.
/// </remarks>
internal sealed class WebSocketConnection
{
    // Raccoon's responses are about 100 bytes; the buffer grows (pooled) up to the cap for anything larger.
    private const int InitialReceiveBufferBytes = 1024;
    private const int MaxMessageBytes = ClickstreamDefaults.MaxResponseBytes;

    // Closing is best effort: the close frame gets this long to go out before the socket is aborted.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly ClientWebSocket _socket;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Action<WebSocketConnection, WebSocketEnd, int> _onEnded;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<SendOutcome>> _inFlight = new();
    private readonly CancellationTokenSource _stopReceiving = new();
    private byte[] _receiveBuffer = [];
    private WebSocketEnd? _end;
    private int _closing;

    private WebSocketConnection(ClientWebSocket socket, TimeProvider timeProvider, ILogger logger, Action<WebSocketConnection, WebSocketEnd, int> onEnded)
    {
        _socket = socket;
        _timeProvider = timeProvider;
        _logger = logger;
        _onEnded = onEnded;
    }

    /// <summary>Whether the connection has ended: a new batch must not be sent on it.</summary>
    public bool HasEnded => Volatile.Read(ref _end) is not null;

    /// <summary>
    /// Opens a connection (<see cref="WebSocketHandshake"/>): the options' headers and a fresh Authorization value go out
    /// on the upgrade request. Never throws for a failed connect (only <see cref="OperationCanceledException"/> for
    /// <paramref name="cancellationToken"/>).
    /// </summary>
    /// <param name="settings">Endpoint, headers, TLS, keep-alive.</param>
    /// <param name="logger">Where the receive loop logs.</param>
    /// <param name="onEnded">Called once when the connection ends, with how and the number of batches in flight then.</param>
    /// <param name="cancellationToken">The pipeline's shutdown.</param>
    /// <returns>The connection, its receive loop not started yet (see <see cref="StartReceiving"/>); or the failure.</returns>
    public static async Task<(WebSocketConnection? Connection, SendOutcome Failure)> ConnectAsync(
        PipelineSettings settings,
        ILogger logger,
        Action<WebSocketConnection, WebSocketEnd, int> onEnded,
        CancellationToken cancellationToken)
    {
        var (socket, failure) = await WebSocketHandshake.ConnectAsync(settings, cancellationToken).ConfigureAwait(false);
        return socket is null ? (null, failure) : (new WebSocketConnection(socket, settings.TimeProvider, logger, onEnded), default);
    }

    /// <summary>Starts the receive loop; called once the owner has published the connection.</summary>
    public void StartReceiving() => _ = ReceiveLoopAsync();

    /// <summary>
    /// Sends one request (encoded in <paramref name="message"/>) and waits for its response, matched by
    /// <paramref name="requestGuid"/>. The message is sent before this returns, so its buffer may then be reused.
    /// </summary>
    /// <param name="requestGuid">The request's req_guid.</param>
    /// <param name="message">The encoded request.</param>
    /// <param name="type">Binary (protobuf) or text (JSON).</param>
    /// <param name="ackTimeout">
    /// How long the ack may take, from now, on the pipeline's <see cref="TimeProvider"/>; a batch without an ack by then
    /// fails with <see cref="SendResult.Timeout"/>.
    /// </param>
    /// <param name="cancellationToken">The pipeline's shutdown: throws <see cref="OperationCanceledException"/>.</param>
    public async Task<SendOutcome> SendAsync(
        Guid requestGuid,
        ReadOnlyMemory<byte> message,
        WebSocketMessageType type,
        TimeSpan ackTimeout,
        CancellationToken cancellationToken)
    {
        var pending = new TaskCompletionSource<SendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inFlight.TryAdd(requestGuid, pending))
        {
            Debug.Fail("The egress makes a new req_guid per request.");
            return new SendOutcome(SendResult.InvalidResponse, Detail: $"req_guid {requestGuid} is already in flight");
        }

        var entry = new KeyValuePair<Guid, TaskCompletionSource<SendOutcome>>(requestGuid, pending);

        // The connection may have ended between the owner's check and the TryAdd. End publishes _end before it looks
        // for the batches to fail, so a batch it cannot have seen sees _end here and fails itself.
        if (Volatile.Read(ref _end) is { } end)
        {
            if (_inFlight.TryRemove(entry))
            {
                pending.TrySetResult(Failed(end));
            }

            return await pending.Task.ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(ackTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await SendMessageAsync(message, type, linked.Token).ConfigureAwait(false);
            return await pending.Task.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // An answer that came as the timer fired still counts; one after this is late and ignored.
            return pending.Task.IsCompletedSuccessfully
                ? pending.Task.Result
                : new SendOutcome(SendResult.Timeout, Detail: $"no ack within {ackTimeout}");
        }
        finally
        {
            // Only this very entry: a late ack then finds nothing to complete.
            _inFlight.TryRemove(entry);
        }
    }

    /// <summary>Ends the connection because the transport is disposed: fails what is in flight, closes in the background.</summary>
    public void Close(string reason)
    {
        End(new WebSocketEnd(WebSocketEndKind.Disposed, reason));
        _ = CloseSocketAsync();
    }

    private static SendOutcome Failed(WebSocketEnd end) => new(SendResult.NetworkError, Detail: end.Reason);

    private async Task SendMessageAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        // A WebSocket allows one send at a time. Cancelling a send that has started aborts the socket (a batch stuck in
        // a send past its ack timeout means a stuck connection); cancelling the wait for the lock does not.
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(message, type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection broke under this send. The receive loop sees it too and ends the connection with its own
            // reason (a refusal frame read before the break wins over this send's error), which fails this batch;
            // should it not, the ack timeout does.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var stop = _stopReceiving.Token;
        _receiveBuffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
        WebSocketEnd end;
        try
        {
            end = await ReceiveUntilEndAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            end = new WebSocketEnd(WebSocketEndKind.Disposed, "the connection was closed");
        }
        catch (Exception ex)
        {
            if (ex is not (WebSocketException or IOException or ObjectDisposedException or InvalidOperationException))
            {
                Log.WebSocketTaskFailed(_logger, "receive loop", ex);
            }

            end = new WebSocketEnd(WebSocketEndKind.Dropped, "the connection broke: " + ex.Message);
        }
        finally
        {
            var buffer = _receiveBuffer;
            _receiveBuffer = [];
            ArrayPool<byte>.Shared.Return(buffer);
        }

        End(end);
        await CloseSocketAsync().ConfigureAwait(false);
    }

    /// <summary>Reads whole messages until the connection ends; returns how it ended.</summary>
    private async Task<WebSocketEnd> ReceiveUntilEndAsync(CancellationToken stop)
    {
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult frame;
            do
            {
                if (length == _receiveBuffer.Length && !TryGrowReceiveBuffer(length))
                {
                    return new WebSocketEnd(WebSocketEndKind.Dropped, $"a response message over {MaxMessageBytes} bytes");
                }

                var room = Math.Min(_receiveBuffer.Length, MaxMessageBytes) - length;
                frame = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(length, room), stop).ConfigureAwait(false);
                length += frame.Count;
            }
            while (!frame.EndOfMessage && frame.MessageType != WebSocketMessageType.Close);

            if (frame.MessageType == WebSocketMessageType.Close)
            {
                var status = _socket.CloseStatus;
                var description = _socket.CloseStatusDescription;
                return status == WebSocketCloseStatus.PolicyViolation
                    ? new WebSocketEnd(WebSocketEndKind.Refused, $"closed by the collector with 1008 (policy violation): {description}")
                    : new WebSocketEnd(WebSocketEndKind.Dropped, $"closed by the collector ({(int?)status} {description})");
            }

            if (OnMessage(frame.MessageType, _receiveBuffer.AsSpan(0, length)) is { } refusal)
            {
                return refusal;
            }
        }
    }

    private bool TryGrowReceiveBuffer(int length)
    {
        if (length >= MaxMessageBytes)
        {
            return false;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_receiveBuffer.Length * 2, MaxMessageBytes));
        _receiveBuffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_receiveBuffer);
        _receiveBuffer = larger;
        return true;
    }

    /// <summary>Completes the batch a response names; returns the end of the connection when the response is a refusal.</summary>
    private WebSocketEnd? OnMessage(WebSocketMessageType type, ReadOnlySpan<byte> message)
    {
        SendEventResponse response;
        try
        {
            response = type == WebSocketMessageType.Text ? RaccoonJson.ReadResponse(message) : SendEventResponse.Parser.ParseFrom(message);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or FormatException)
        {
            // It cannot be matched to a batch: that batch's ack timeout fails it.
            Log.WebSocketUnreadableResponse(_logger, ex.Message);
            return null;
        }

        // Raccoon refuses a connection with one of these (always protobuf, without a useful req_guid), then close 1008.
        if (response.Code is Code.MaxUserLimitReached or Code.MaxConnectionLimitReached)
        {
            return new WebSocketEnd(WebSocketEndKind.Refused, $"{response.Code}: {response.Reason}");
        }

        response.Data.TryGetValue("req_guid", out var named);
        if (Guid.TryParse(named, out var requestGuid) && _inFlight.TryRemove(requestGuid, out var pending))
        {
            pending.TrySetResult(RaccoonAck.Classify(200, response, null, requestGuid));
        }
        else
        {
            Log.WebSocketUnmatchedResponse(_logger, named ?? string.Empty);
        }

        return null;
    }

    /// <summary>Ends the connection once: the owner first, then every batch in flight fails with the same reason.</summary>
    private void End(WebSocketEnd end)
    {
        if (Interlocked.CompareExchange(ref _end, end, null) is not null)
        {
            return;
        }

        try
        {
            _onEnded(this, end, _inFlight.Count);
        }
        catch (Exception ex)
        {
            Log.WebSocketTaskFailed(_logger, "connection end", ex);
        }

        // A batch added after _end was published fails itself (see SendAsync); TryRemove decides who completes each.
        var outcome = Failed(end);
        foreach (var entry in _inFlight)
        {
            if (_inFlight.TryRemove(entry))
            {
                entry.Value.TrySetResult(outcome);
            }
        }
    }

    /// <summary>Best effort, once: a close frame if the socket can still send one, then the socket is aborted and freed.</summary>
    private async Task CloseSocketAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout, _timeProvider);
                await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer is gone or slow: nothing more to do than abort.
        }
        catch (Exception ex)
        {
            Log.WebSocketTaskFailed(_logger, "close", ex);
        }
        finally
        {
            // Ends the receive loop if it still runs (a cancelled receive aborts the socket), then frees the socket.
            _stopReceiving.Cancel();
            _socket.Dispose();
        }
    }
}
