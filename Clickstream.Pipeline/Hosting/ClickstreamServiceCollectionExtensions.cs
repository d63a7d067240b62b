using Clickstream.Pipeline;
using Clickstream.Pipeline.Hosting;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a <see cref="ClickstreamPipeline"/> with <see cref="IServiceCollection"/>: options from configuration
/// and code, validated when the host starts, the pipeline as a singleton, and a hosted service that flushes it
/// when the host stops.
/// </summary>
/// <example>
/// <code>
/// var builder = Host.CreateApplicationBuilder(args);
/// builder.Services.AddClickstream(o => o.AuthorizationProvider = GetTokenAsync); // + the "Clickstream" section
/// using var host = builder.Build();
/// await host.RunAsync(); // inject ClickstreamPipeline and call TrackAsync
/// </code>
/// </example>
public static class ClickstreamServiceCollectionExtensions
{
    /// <summary>The configuration section that <see cref="AddClickstream(IServiceCollection)"/> binds: <c>Clickstream</c>.</summary>
    public const string ConfigurationSectionName = "Clickstream";

    /// <summary>
    /// The name of the <see cref="IHttpClientFactory"/> client that the REST transports (<see cref="ClickstreamTransport.Http"/>,
    /// <see cref="ClickstreamTransport.HttpJson"/>) and the reachability probe send through: <c>Clickstream.Pipeline</c>.
    /// Add handlers with <c>services.AddHttpClient(HttpClientName).AddHttpMessageHandler(...)</c>.
    /// </summary>
    public const string HttpClientName = "Clickstream.Pipeline";

    /// <summary>
    /// Registers the pipeline with its options bound from the <c>Clickstream</c> section of the app's
    /// <see cref="IConfiguration"/> (when one is registered, as in every host).
    /// </summary>
    /// <param name="services">The services to add to.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddClickstream(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<ClickstreamOptions>, ClickstreamConfigurationBinding>());
        return AddCore(services);
    }

    /// <summary>
    /// Registers the pipeline with its options bound from the <c>Clickstream</c> section of the app's
    /// <see cref="IConfiguration"/> (when one is registered), then set by <paramref name="configure"/>: code wins
    /// over configuration, and options that configuration cannot hold (delegates, handlers) are set here.
    /// </summary>
    /// <param name="services">The services to add to.</param>
    /// <param name="configure">Sets options in code; runs after the configuration is bound.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddClickstream(this IServiceCollection services, Action<ClickstreamOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddClickstream(services);
        services.Configure(configure);
        return services;
    }

    /// <summary>Registers the pipeline with its options bound from <paramref name="configuration"/>, e.g. <c>configuration.GetSection("Raccoon")</c>.</summary>
    /// <param name="services">The services to add to.</param>
    /// <param name="configuration">The section that holds the options (keys as the property names: <c>Endpoint</c>, <c>WebSocket:AckTimeout</c>...).</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddClickstream(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.Configure<ClickstreamOptions>(options => ClickstreamConfigurationBinding.Bind(configuration, options));
        return AddCore(services);
    }

    /// <summary>
    /// Registers the pipeline with its options bound from <paramref name="configuration"/>, then set by
    /// <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services to add to.</param>
    /// <param name="configuration">The section that holds the options.</param>
    /// <param name="configure">Sets options in code; runs after the configuration is bound.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddClickstream(this IServiceCollection services, IConfiguration configuration, Action<ClickstreamOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddClickstream(services, configuration);
        services.Configure(configure);
        return services;
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddOptions<ClickstreamOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClickstreamOptions>, ClickstreamOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<ClickstreamOptions>, ClickstreamServicesSetup>());

        // The pipeline's own handler (connections per server, TLS validation) is the primary handler; the app's
        // DelegatingHandlers go in front of it. The factory's per-request log lines are removed: a busy pipeline
        // sends several requests a second, and its own log says what failed.
        services.AddHttpClient(HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(static provider =>
            {
                var options = provider.GetRequiredService<IOptions<ClickstreamOptions>>().Value;
                return TransportSupport.SocketsHandler(options.MaxConcurrentRequests, options.ServerCertificateValidation);
            })
            .RemoveAllLoggers();

        services.TryAddSingleton(static provider => ClickstreamPipeline.Create(
            provider.GetRequiredService<IOptions<ClickstreamOptions>>().Value,
            httpClientFactory: provider.GetRequiredService<IHttpClientFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClickstreamHostedService>());
        return services;
    }
}
