using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Tests.Hosting;

/// <summary>
/// A sample host as an app would write it: <c>Host.CreateApplicationBuilder</c>, configuration (here an in-memory
/// collection in the <c>Clickstream</c> section) pointing at a real collector, the store in a temp folder, and
/// <c>AddClickstream</c>.
/// </summary>
internal static class ClickstreamHost
{
    /// <summary>The <c>Clickstream</c> section for <paramref name="collector"/>: endpoint, store, no network detection.</summary>
    public static Dictionary<string, string?> Configuration(RaccoonCollector collector, TempFolder folder) => new()
    {
        ["Clickstream:Endpoint"] = collector.EventsEndpoint.ToString(),
        ["Clickstream:StoragePath"] = folder.StorePath,
        ["Clickstream:DetectNetworkChanges"] = "false",
    };

    public static IHost Build(IDictionary<string, string?> configuration, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = false,
            EnvironmentName = Environments.Development,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddClickstream();
        configure?.Invoke(builder);
        return builder.Build();
    }
}
