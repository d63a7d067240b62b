using System.Net.Http.Headers;
using System.Net.WebSockets;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// The WebSocket upgrade: a <see cref="ClientWebSocket"/> set up from the options (headers, a fresh Authorization value,
/// TLS, keep-alive) and connected within <see cref="PipelineSettings.RequestTimeout"/>, or the failure it ended in, with
/// the upgrade response's status and Retry-After read the way the other transports read an HTTP answer.
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>
    /// Connects a new socket. Never throws for a failed connect (only <see cref="OperationCanceledException"/> for
    /// <paramref name="cancellationToken"/>); the socket of a failed connect is disposed.
    /// </summary>
    /// <param name="settings">Endpoint, headers, TLS, keep-alive.</param>
    /// <param name="cancellationToken">The pipeline's shutdown.</param>
    /// <returns>The open socket; or the failure.</returns>
    public static async Task<(ClientWebSocket? Socket, SendOutcome Failure)> ConnectAsync(PipelineSettings settings, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        var options = socket.Options;
        foreach (var header in settings.Headers)
        {
            options.SetRequestHeader(header.Key, header.Value);
        }

        if (settings.ServerCertificateValidation is { } validate)
        {
            options.RemoteCertificateValidationCallback = validate;
        }

        // With an interval alone .NET sends unsolicited Pongs; with a timeout as well it sends real Pings and aborts the
        // connection when the Pong does not come, so that a half-open connection is found and reopened.
        options.KeepAliveInterval = settings.WebSocket.KeepAliveInterval;
        options.KeepAliveTimeout = settings.WebSocket.KeepAliveInterval;
        options.CollectHttpResponseDetails = true;

        using var timeout = new CancellationTokenSource(settings.RequestTimeout, settings.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            // Asked per connection, so that a rotated token is used from the next connection on.
            if (await TransportSupport.AuthorizationAsync(settings, linked.Token).ConfigureAwait(false) is { } authorization)
            {
                options.SetRequestHeader("Authorization", authorization);
            }

            await socket.ConnectAsync(settings.Endpoint, linked.Token).ConfigureAwait(false);
            return (socket, default);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, new SendOutcome(SendResult.Timeout, Detail: $"no WebSocket upgrade within {settings.RequestTimeout}"));
        }
        catch (Exception ex)
        {
            // Any failure to connect (refused, TLS, an upgrade answered 401 or 503, the authorization callback) is
            // reported, not thrown.
            var status = (int)socket.HttpStatusCode;
            var retryAfter = RetryAfter(socket.HttpResponseHeaders, settings.TimeProvider);
            socket.Dispose();
            var kind = status == 0 ? FailureClassifier.FromException(ex).Result : UpgradeFailure(status);
            return (null, new SendOutcome(kind, status, "WebSocket connect failed: " + ex.Message, retryAfter));
        }
    }

    /// <summary>
    /// The kind of a failed upgrade, as <see cref="FailureClassifier.FromHttpStatus"/> reads an HTTP status, except that
    /// it is never <see cref="SendResult.Rejected"/>: the connection was refused, not the batch, so a 4xx there says the
    /// deployment is wrong. No status at all is a network failure.
    /// </summary>
    internal static SendResult UpgradeFailure(int status)
    {
        if (status == 0)
        {
            return SendResult.NetworkError;
        }

        var kind = FailureClassifier.FromHttpStatus(status);
        return kind == SendResult.Rejected ? SendResult.Misconfigured : kind;
    }

    /// <summary>The upgrade response's Retry-After (delta-seconds or an HTTP date) as a delay from now, never negative.</summary>
    private static TimeSpan? RetryAfter(IReadOnlyDictionary<string, IEnumerable<string>>? headers, TimeProvider timeProvider)
    {
        if (headers is null || !headers.TryGetValue("Retry-After", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            if (RetryConditionHeaderValue.TryParse(value, out var parsed))
            {
                var delay = parsed.Delta ?? (parsed.Date - timeProvider.GetUtcNow()) ?? TimeSpan.Zero;
                return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
            }
        }

        return null;
    }
}
