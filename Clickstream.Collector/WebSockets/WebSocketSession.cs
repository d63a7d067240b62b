using System.Collections.Concurrent;
using System.Net.WebSockets;
using Clickstream.Collector.Requests;

namespace Clickstream.Collector.WebSockets;

/// <summary>
/// One open WebSocket connection: its identity, one sender at a time (a WebSocket allows one send and one receive
/// in flight), and the answers still waiting on a fault, which must end before the connection's handler returns.
/// </summary>
internal sealed class WebSocketSession(WebSocket socket, ClientIdentity identity, string? authorization) : IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _ended = new();
    private readonly CancellationTokenSource _stopReceiving = new();
    private readonly ConcurrentDictionary<Task, byte> _heldAnswers = new();
    private readonly Lock _lifetimeLock = new();
    private bool _handlerReturning;

    public ClientIdentity Identity { get; } = identity;

    public string? Authorization { get; } = authorization;

    public WebSocket Socket { get; } = socket;

    /// <summary>Signaled when the connection ends: held answers give up.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>
    /// Signaled to end the connection without a close handshake and, if possible, without an abort: the receive loop
    /// stops before its next receive, the handler returns, and Kestrel closes the connection after sending everything
    /// written. A receive already waiting is canceled instead, which aborts the WebSocket and may lose the last bytes.
    /// </summary>
    public CancellationToken ReceiveStopped => _stopReceiving.Token;

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Socket.SendAsync(message, type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends <paramref name="part"/> as a frame that does not end its message, then stops receiving (see
    /// <see cref="ReceiveStopped"/>): a truncated answer.
    /// </summary>
    public async ValueTask SendPartAndEndAsync(ReadOnlyMemory<byte> part, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Socket.SendAsync(part, type, endOfMessage: false, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _sendLock.Release();
            throw;
        }

        // The send lock stays taken: another answer now would go out as the rest of this message. Senders waiting
        // for it give up when the connection ends.
        await _stopReceiving.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Sends a close frame; under the send lock too, since a close is a send and may race a held answer.</summary>
    public async ValueTask CloseOutputAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Socket.CloseOutputAsync(status, reason, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Keeps track of an answer sent later, so that <see cref="EndAsync"/> can wait for it.</summary>
    /// <param name="answer">A task that never fails.</param>
    public void TrackHeldAnswer(Task answer)
    {
        if (answer.IsCompleted)
        {
            return;
        }

        _heldAnswers.TryAdd(answer, 0);
        answer.ContinueWith(
            static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _),
            _heldAnswers,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Aborts the connection from outside its handler (a drop), unless the handler is already returning.</summary>
    public void Abort()
    {
        // Under the lock that EndAsync takes before the handler returns: aborting ASP.NET's WebSocket aborts the
        // request's HttpContext too, which Kestrel disposes (and may reuse) once the handler returned.
        lock (_lifetimeLock)
        {
            if (!_handlerReturning)
            {
                Socket.Abort();
            }
        }
    }

    /// <summary>Called by the handler before it returns: ends held answers and waits for them.</summary>
    public async Task EndAsync()
    {
        lock (_lifetimeLock)
        {
            _handlerReturning = true;
        }

        await _ended.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_heldAnswers.Keys).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _ended.Dispose();
        _stopReceiving.Dispose();
        _sendLock.Dispose();
    }
}
