using System.Net;
using System.Net.Security;

namespace Clickstream.Pipeline.Transports;

/// <summary>What the HTTP, JSON and gRPC transports share: the handler with the TLS settings, and the auth header.</summary>
internal static class TransportSupport
{
    /// <summary>
    /// The options' handler, or a new one with the pipeline's TLS validation; <paramref name="owned"/> says
    /// whether the caller must dispose it.
    /// </summary>
    public static HttpMessageHandler Handler(PipelineSettings settings, out bool owned)
    {
        if (settings.HttpMessageHandler is { } handler)
        {
            owned = false;
            return handler;
        }

        owned = true;
        return SocketsHandler(settings.MaxConcurrentRequests, settings.ServerCertificateValidation);
    }

    /// <summary>
    /// The pipeline's own handler: connections per server, TLS validation. Also the primary handler of the
    /// <c>IHttpClientFactory</c> client that <c>AddClickstream</c> registers.
    /// </summary>
    public static SocketsHttpHandler SocketsHandler(int maxConnectionsPerServer, RemoteCertificateValidationCallback? validate)
    {
        var sockets = new SocketsHttpHandler
        {
            // Recycle connections so that DNS changes of the collector are seen.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = maxConnectionsPerServer,
            AutomaticDecompression = DecompressionMethods.None,
            EnableMultipleHttp2Connections = true,
        };
        if (validate is not null)
        {
            sockets.SslOptions.RemoteCertificateValidationCallback = validate;
        }

        return sockets;
    }

    /// <summary>
    /// The Authorization value for the next request or connection, or null when none is configured. A provider that
    /// ignores <paramref name="cancellationToken"/> is abandoned when the token is cancelled (the request's timeout),
    /// so that it cannot hold the send, or a WebSocket's connect lock, forever.
    /// </summary>
    public static async ValueTask<string?> AuthorizationAsync(PipelineSettings settings, CancellationToken cancellationToken)
    {
        if (settings.AuthorizationProvider is not { } provider)
        {
            return null;
        }

        var value = provider(cancellationToken);
        return value.IsCompleted
            ? value.Result
            : await value.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
