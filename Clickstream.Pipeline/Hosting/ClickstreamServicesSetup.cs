using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Clickstream.Pipeline.Hosting;

/// <summary>
/// Fills the options that come from the container, after configuration and code had their say: what the app
/// set itself is kept. The app's <see cref="ILoggerFactory"/>, <see cref="TimeProvider"/> (when one is
/// registered) and <see cref="IMeterFactory"/> (the host registers one, so the pipeline's meter joins the app's
/// metrics pipeline). The <see cref="IHttpClientFactory"/> is not an option: the pipeline's registration passes it.
/// </summary>
internal sealed class ClickstreamServicesSetup(IServiceProvider services) : IPostConfigureOptions<ClickstreamOptions>
{
    public void PostConfigure(string? name, ClickstreamOptions options)
    {
        options.LoggerFactory ??= services.GetService<ILoggerFactory>();
        options.MeterFactory ??= services.GetService<IMeterFactory>();
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } timeProvider)
        {
            options.TimeProvider = timeProvider;
        }
    }
}
