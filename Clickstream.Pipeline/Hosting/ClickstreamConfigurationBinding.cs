using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Clickstream.Pipeline.Hosting;

/// <summary>
/// Binds <see cref="ClickstreamOptions"/> from the <c>Clickstream</c> section of the app's <see cref="IConfiguration"/>,
/// if the app has one. A key that names no option is an error, so that a typo does not go unnoticed.
/// </summary>
internal sealed class ClickstreamConfigurationBinding(IServiceProvider services) : IConfigureOptions<ClickstreamOptions>
{
    public void Configure(ClickstreamOptions options)
    {
        if (services.GetService<IConfiguration>() is { } configuration)
        {
            Bind(configuration.GetSection(ClickstreamServiceCollectionExtensions.ConfigurationSectionName), options);
        }
    }

    /// <summary>Binds <paramref name="section"/> into <paramref name="options"/>; unknown keys throw, naming the key.</summary>
    public static void Bind(IConfiguration section, ClickstreamOptions options) =>
        section.Bind(options, static binder => binder.ErrorOnUnknownConfiguration = true);
}
