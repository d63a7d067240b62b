using Microsoft.Extensions.DependencyInjection;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Where the REST transports and the ping probe get their <see cref="HttpClient"/>: one client over the
/// pipeline's own handler, or, under <c>AddClickstream</c>, a client from <see cref="IHttpClientFactory"/> per
/// request, so that the app's handlers run and the factory's handler rotation is honoured.
/// </summary>
internal sealed class HttpClientSource : IDisposable
{
    private readonly HttpClient? _client;
    private readonly IHttpClientFactory? _factory;

    public HttpClientSource(PipelineSettings settings)
    {
        if (settings.HttpClientFactory is { } factory)
        {
            _factory = factory;
            return;
        }

        var handler = TransportSupport.Handler(settings, out var owned);
        _client = new HttpClient(handler, disposeHandler: owned)
        {
            // The per-request timeout comes from the TimeProvider, so that tests control it.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// The client for the next request. A factory client is created per request: it is cheap (the handler
    /// chain is pooled by the factory), and a client kept for long would pin one handler and never see the
    /// rotated one. It is not disposed: it does not own its handler.
    /// </summary>
    public HttpClient Get()
    {
        if (_factory is null)
        {
            return _client!;
        }

        var client = _factory.CreateClient(ClickstreamServiceCollectionExtensions.HttpClientName);

        // RequestTimeout, on the TimeProvider, bounds each request; an app's HttpClient.Timeout must not cut it shorter.
        client.Timeout = Timeout.InfiniteTimeSpan;
        return client;
    }

    public void Dispose() => _client?.Dispose();
}
