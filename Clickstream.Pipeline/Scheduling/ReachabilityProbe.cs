using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// Asks whether the server answers at all, while the pipeline holds batches back: Raccoon's <c>GET /ping</c>
/// for the REST and WebSocket transports (same host and port, http for ws, https for wss). gRPC has no ping:
/// there the next call is the probe (<see cref="CallIsTheProbe"/>).
/// </summary>
internal sealed class ReachabilityProbe : IDisposable
{
    private readonly HttpClientSource? _clients;
    private readonly Uri? _pingUri;
    private readonly PipelineSettings _settings;

    public ReachabilityProbe(PipelineSettings settings)
    {
        _settings = settings;
        if (settings.Transport == ClickstreamTransport.Grpc)
        {
            return;
        }

        var endpoint = settings.Endpoint;
        var scheme = endpoint.Scheme == Uri.UriSchemeWss || endpoint.Scheme == Uri.UriSchemeHttps ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        _pingUri = new UriBuilder(scheme, endpoint.Host, endpoint.Port, "/ping").Uri;
        _clients = new HttpClientSource(settings);
    }

    /// <summary>gRPC: no separate probe; the scheduler lets the next batch go and its outcome decides.</summary>
    public bool CallIsTheProbe => _clients is null;

    /// <summary>
    /// True when the server answered the ping with a 2xx; false on a network error or no answer within
    /// <see cref="PipelineSettings.RequestTimeout"/>, even from a handler that ignores its token (the send is abandoned).
    /// Anything else an app's handler throws reaches the caller, which counts it as no answer and probes again.
    /// </summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        if (_clients is null)
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(_settings.RequestTimeout, _settings.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _pingUri);
            foreach (var header in _settings.Headers)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            // WaitAsync: a handler that ignores the token must not hold the probe, and with it all probing, forever.
            var send = _clients.Get().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            using var response = await send.WaitAsync(linked.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => _clients?.Dispose();
}
