using System.Net.WebSockets;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Raccoon's WebSocket protocol: one long-lived connection (a <see cref="WebSocketConnection"/>), opened on the first
/// send and reopened after it ends; protobuf in binary frames, or Raccoon JSON in text frames
/// (<see cref="WebSocketTransportOptions.UseTextFrames"/>); up to <see cref="WebSocketTransportOptions.MaxInFlightBatches"/>
/// batches sent and waiting for their ack at once, each matched to its response by req_guid.
/// </summary>
/// <remarks>
/// <para>
/// Failures: a batch without an ack within <see cref="WebSocketTransportOptions.AckTimeout"/> fails with
/// <see cref="SendResult.Timeout"/> and frees its slot (its ack, if it comes later, is ignored). A connection that ends,
/// whether dropped, closed or refused by the collector, fails every batch in flight on it with
/// <see cref="SendResult.NetworkError"/>. A refusal (CODE_MAX_USER_LIMIT_REACHED, CODE_MAX_CONNECTION_LIMIT_REACHED,
/// close 1008) is logged once per run of failures, not per batch or per attempt.
/// </para>
/// <para>
/// Reconnecting: after a connection ends or a connect fails, the next connect waits a capped exponential backoff with
/// full jitter (<see cref="JitteredBackoff"/>) on the pipeline's clock; the first ack starts it over. Within that wait a
/// send fails at once with <see cref="SendResult.NetworkError"/> ("reconnecting in ...") instead of holding the egress:
/// the egress re-sends a failed batch after its own backoff.
/// </para>
/// <para>
/// Keep-alive: a Ping after <see cref="WebSocketTransportOptions.KeepAliveInterval"/> without traffic, and the connection
/// is dropped when its Pong does not come within another interval, so that a half-open connection is found. The egress
/// sends at most <see cref="ClickstreamOptions.MaxConcurrentRequests"/> batches at once, which bounds the window too.
/// </para>
/// </remarks>
internal sealed class WebSocketTransport : IEventTransport
{
    private readonly PipelineSettings _settings;
    private readonly WebSocketTransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly WebSocketMessageType _messageType;
    private readonly Action<WebSocketConnection, WebSocketEnd, int> _onConnectionEnded;

    // The window of batches in flight; a slot is held from before the connect until the ack, the failure or the timeout.
    private readonly SemaphoreSlim _window;

    // One connect at a time: the batches that wait for it then use the connection it opened, or fail with its failure.
    private readonly SemaphoreSlim _connectLock = new(1, 1);

    // Guards the backoff, the reconnect time, the refusal log flag and the swap of _connection.
    private readonly Lock _stateLock = new();
    private readonly JitteredBackoff _backoff;
    private DateTimeOffset _reconnectAt = DateTimeOffset.MinValue;
    private string _lastFailure = string.Empty;
    private bool _refusalLogged;

    private volatile WebSocketConnection? _connection;
    private volatile bool _failedSinceAck;
    private volatile bool _disposed;

    public WebSocketTransport(PipelineSettings settings)
        : this(settings, Random.Shared)
    {
    }

    /// <param name="settings">The pipeline's settings.</param>
    /// <param name="jitter">The randomness of the reconnect backoff; tests pass a seeded or fixed one.</param>
    internal WebSocketTransport(PipelineSettings settings, Random jitter)
    {
        _settings = settings;
        _options = settings.WebSocket;
        _timeProvider = settings.TimeProvider;
        _logger = settings.LoggerFactory.CreateLogger("Clickstream.Pipeline.WebSocket");
        _messageType = _options.UseTextFrames ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
        _window = new SemaphoreSlim(_options.MaxInFlightBatches, _options.MaxInFlightBatches);
        _backoff = new JitteredBackoff(_options.ReconnectBaseDelay, _options.ReconnectMaxDelay, jitter);
        _onConnectionEnded = OnConnectionEnded;
    }

    public async Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        await _window.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (connection, failure) = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (connection is null)
            {
                return failure;
            }

            // One pooled buffer per request; the connection has sent it by the time SendAsync returns.
            using var request = RaccoonRequest.Encode(_options.UseTextFrames, requestGuid, _timeProvider.GetUtcNow(), events);
            var outcome = await connection.SendAsync(requestGuid, request.Memory, _messageType, _options.AckTimeout, cancellationToken).ConfigureAwait(false);
            if (outcome.IsAcknowledged && _failedSinceAck)
            {
                OnAcknowledgedAfterFailures();
            }

            return outcome;
        }
        finally
        {
            _window.Release();
        }
    }

    /// <summary>
    /// Closes the connection (best effort, in the background) and fails every batch in flight on it. The semaphores are
    /// not disposed: sends still returning release their slots into them.
    /// </summary>
    public void Dispose()
    {
        WebSocketConnection? connection;
        lock (_stateLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            connection = _connection;
            _connection = null;
        }

        connection?.Close("the transport was disposed");
    }

    private static SendOutcome Disposed() => new(SendResult.NetworkError, Detail: "the WebSocket transport was disposed");

    /// <summary>The open connection, a new one, or why there is none now (never blocks through the reconnect backoff).</summary>
    private async ValueTask<(WebSocketConnection? Connection, SendOutcome Failure)> GetConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { HasEnded: false } open)
        {
            return (open, default);
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another batch may have connected, or failed to, while this one waited for the lock.
            if (_connection is { HasEnded: false } opened)
            {
                return (opened, default);
            }

            if (_disposed)
            {
                return (null, Disposed());
            }

            if (ReconnectWait() is { } wait)
            {
                return (null, new SendOutcome(SendResult.NetworkError, Detail: $"reconnecting in {wait.Delay} (after: {wait.LastFailure})"));
            }

            var (connection, failure) = await WebSocketConnection.ConnectAsync(_settings, _logger, _onConnectionEnded, cancellationToken).ConfigureAwait(false);
            if (connection is null)
            {
                var delay = OnConnectFailed(failure.Detail ?? failure.Result.ToString());
                Log.WebSocketConnectFailed(_logger, _settings.LoggedEndpoint, failure.Detail ?? string.Empty, delay);
                return (null, failure);
            }

            bool published;
            lock (_stateLock)
            {
                published = !_disposed;
                if (published)
                {
                    _connection = connection;
                }
            }

            if (!published)
            {
                connection.Close("the transport was disposed");
                return (null, Disposed());
            }

            // Started once published, so that the connection's end always finds it as the current one.
            connection.StartReceiving();
            Log.WebSocketConnected(_logger, _settings.LoggedEndpoint);
            return (connection, default);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private (TimeSpan Delay, string LastFailure)? ReconnectWait()
    {
        lock (_stateLock)
        {
            var now = _timeProvider.GetUtcNow();
            return now < _reconnectAt ? (_reconnectAt - now, _lastFailure) : null;
        }
    }

    private TimeSpan OnConnectFailed(string reason)
    {
        lock (_stateLock)
        {
            return ScheduleReconnect(reason);
        }
    }

    /// <summary>Called once per connection, before its batches learn that they failed.</summary>
    private void OnConnectionEnded(WebSocketConnection connection, WebSocketEnd end, int inFlight)
    {
        TimeSpan delay;
        bool logRefusal;
        lock (_stateLock)
        {
            if (_connection == connection)
            {
                _connection = null;
            }

            if (end.Kind == WebSocketEndKind.Disposed)
            {
                return;
            }

            delay = ScheduleReconnect(end.Reason);

            // A refusal repeats at every attempt while the collector is full or the identity is taken: once per run.
            logRefusal = end.Kind == WebSocketEndKind.Refused && !_refusalLogged;
            _refusalLogged |= logRefusal;
        }

        if (logRefusal)
        {
            Log.WebSocketRefused(_logger, _settings.LoggedEndpoint, end.Reason, inFlight, delay);
        }
        else if (end.Kind == WebSocketEndKind.Dropped)
        {
            Log.WebSocketDropped(_logger, _settings.LoggedEndpoint, end.Reason, inFlight, delay);
        }
    }

    /// <summary>Under <see cref="_stateLock"/>: the next connect waits the backoff.</summary>
    private TimeSpan ScheduleReconnect(string reason)
    {
        var delay = _backoff.NextDelay();
        _reconnectAt = _timeProvider.GetUtcNow() + delay;
        _lastFailure = reason;
        _failedSinceAck = true;
        return delay;
    }

    private void OnAcknowledgedAfterFailures()
    {
        lock (_stateLock)
        {
            _backoff.Reset();
            _refusalLogged = false;
            _failedSinceAck = false;
        }
    }
}
