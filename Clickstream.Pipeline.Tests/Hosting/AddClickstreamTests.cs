using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Hosting;

/// <summary>What <c>AddClickstream</c> makes of configuration, code and the container's services.</summary>
public class AddClickstreamTests
{
    private static ClickstreamOptions Resolve(IDictionary<string, string?> configuration, Action<IServiceCollection> register)
    {
        // Options are validated when resolved: every test has an endpoint.
        configuration.TryAdd("Clickstream:Endpoint", "http://raccoon.example/api/v1/events");
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        register(services);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<ClickstreamOptions>>().Value;
    }

    [Test]
    public void Every_bindable_option_kind_binds_from_the_Clickstream_section()
    {
        var options = Resolve(
            new Dictionary<string, string?>
            {
                ["Clickstream:Endpoint"] = "wss://raccoon.example:8443/api/v1/events",
                ["Clickstream:Transport"] = "WebSocket",
                ["Clickstream:GrpcServiceName"] = "odpf.raccoon.EventService",
                ["Clickstream:StoragePath"] = "/var/lib/app/events.db",
                ["Clickstream:MaxBatchSize"] = "250",
                ["Clickstream:MaxStorageBytes"] = "1073741824",
                ["Clickstream:MaxTimeBetweenTwoBatches"] = "00:00:02.500",
                ["Clickstream:EventTimeToLive"] = "3.00:00:00",
                ["Clickstream:MaxDeadLetters"] = "500",
                ["Clickstream:ProbeInterval"] = "00:00:05",
                ["Clickstream:FlushCommitsToDisk"] = "true",
                ["Clickstream:DetectNetworkChanges"] = "false",
                ["Clickstream:EventGroup"] = "shop",
                ["Clickstream:InstantEventTypes:0"] = "Click",
                ["Clickstream:InstantEventTypes:1"] = "shop.v1.Scroll",
                ["Clickstream:Headers:X-User-ID"] = "user-1",
                ["Clickstream:Headers:X-User-Group"] = "beta",
                ["Clickstream:WebSocket:AckTimeout"] = "00:00:20",
                ["Clickstream:WebSocket:MaxInFlightBatches"] = "3",
                ["Clickstream:WebSocket:UseTextFrames"] = "true",
            },
            services => services.AddClickstream());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.Endpoint, Is.EqualTo(new Uri("wss://raccoon.example:8443/api/v1/events")));
            Assert.That(options.Transport, Is.EqualTo(ClickstreamTransport.WebSocket));
            Assert.That(options.GrpcServiceName, Is.EqualTo("odpf.raccoon.EventService"));
            Assert.That(options.StoragePath, Is.EqualTo("/var/lib/app/events.db"));
            Assert.That(options.MaxBatchSize, Is.EqualTo(250));
            Assert.That(options.MaxStorageBytes, Is.EqualTo(1L << 30));
            Assert.That(options.MaxTimeBetweenTwoBatches, Is.EqualTo(TimeSpan.FromMilliseconds(2500)));
            Assert.That(options.EventTimeToLive, Is.EqualTo(TimeSpan.FromDays(3)));
            Assert.That(options.MaxDeadLetters, Is.EqualTo(500));
            Assert.That(options.ProbeInterval, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.FlushCommitsToDisk, Is.True);
            Assert.That(options.DetectNetworkChanges, Is.False);
            Assert.That(options.EventGroup, Is.EqualTo("shop"));
            Assert.That(options.InstantEventTypes, Is.EqualTo(new[] { "Click", "shop.v1.Scroll" }));
            Assert.That(options.Headers, Is.EquivalentTo(new Dictionary<string, string> { ["X-User-ID"] = "user-1", ["X-User-Group"] = "beta" }));
            Assert.That(options.Headers["x-user-id"], Is.EqualTo("user-1"), "the bound dictionary keeps its case-insensitive comparer");
            Assert.That(options.WebSocket.AckTimeout, Is.EqualTo(TimeSpan.FromSeconds(20)));
            Assert.That(options.WebSocket.MaxInFlightBatches, Is.EqualTo(3));
            Assert.That(options.WebSocket.UseTextFrames, Is.True);
            Assert.That(options.MaxEventBytes, Is.EqualTo(new ClickstreamOptions().MaxEventBytes), "unset options keep their defaults");
        }
    }

    [Test]
    public void Code_runs_after_configuration_and_sets_the_options_configuration_cannot_hold()
    {
        Func<CancellationToken, ValueTask<string>> token = _ => ValueTask.FromResult("Bearer t");
        var options = Resolve(
            new Dictionary<string, string?> { ["Clickstream:Endpoint"] = "http://a/api/v1/events", ["Clickstream:MaxBatchSize"] = "100" },
            services => services.AddClickstream(o =>
            {
                o.MaxBatchSize = 7;
                o.AuthorizationProvider = token;
            }));

        Assert.That(options.MaxBatchSize, Is.EqualTo(7));
        Assert.That(options.AuthorizationProvider, Is.SameAs(token));
        Assert.That(options.Endpoint, Is.EqualTo(new Uri("http://a/api/v1/events")));
    }

    [Test]
    public void A_given_section_is_bound_instead_of_the_Clickstream_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clickstream:MaxBatchSize"] = "100",
            ["Analytics:Raccoon:MaxBatchSize"] = "42",
            ["Analytics:Raccoon:Endpoint"] = "http://b/api/v1/events",
        }).Build();

        var options = Resolve(new Dictionary<string, string?>(), services => services.AddClickstream(configuration.GetSection("Analytics:Raccoon"), o => o.EventGroup = "g"));

        Assert.That(options.MaxBatchSize, Is.EqualTo(42));
        Assert.That(options.Endpoint, Is.EqualTo(new Uri("http://b/api/v1/events")));
        Assert.That(options.EventGroup, Is.EqualTo("g"));
    }

    [Test]
    public void Container_services_fill_the_options_the_app_left_unset()
    {
        var time = new FakeTimeProvider();
        var loggers = new NullLoggerFactory();
        var options = Resolve(new Dictionary<string, string?>(), services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton<ILoggerFactory>(loggers);
            services.AddMetrics();
            services.AddClickstream();
        });

        Assert.That(options.TimeProvider, Is.SameAs(time));
        Assert.That(options.LoggerFactory, Is.SameAs(loggers));
        Assert.That(options.MeterFactory, Is.Not.Null, "the container's IMeterFactory");
    }

    [Test]
    public void Options_set_in_code_win_over_container_services()
    {
        var mine = new FakeTimeProvider();
        using var handler = new HttpClientHandler();
        var options = Resolve(new Dictionary<string, string?>(), services =>
        {
            services.AddSingleton<TimeProvider>(new FakeTimeProvider());
            services.AddClickstream(o =>
            {
                o.TimeProvider = mine;
                o.HttpMessageHandler = handler;
            });
        });

        using var container = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        var factory = container.GetRequiredService<IHttpClientFactory>();
        Assert.That(options.TimeProvider, Is.SameAs(mine));
        Assert.That(PipelineSettings.Create(options, httpClientFactory: factory).HttpClientFactory, Is.Null, "an app's own handler is used instead of the factory");
    }

    [Test]
    public void Pipeline_is_one_singleton_and_AddClickstream_twice_registers_one_hosted_service()
    {
        var services = new ServiceCollection();
        services.AddClickstream(o => o.Endpoint = new Uri("http://a/api/v1/events"));
        services.AddClickstream(o => o.MaxBatchSize = 5);

        Assert.That(services.Count(d => d.ServiceType == typeof(ClickstreamPipeline)), Is.EqualTo(1));
        Assert.That(services.Count(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)), Is.EqualTo(1));
        Assert.That(services.Single(d => d.ServiceType == typeof(ClickstreamPipeline)).Lifetime, Is.EqualTo(ServiceLifetime.Singleton));
    }
}
