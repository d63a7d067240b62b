using System.Collections.Concurrent;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Clickstream.Pipeline.Tests.Hosting;

/// <summary>The pipeline in a real host, against the real collector: tracked, flushed when the host stops, validated at start.</summary>
public class SampleHostTests
{
    private RaccoonCollector _collector = null!;
    private TempFolder _folder = null!;

    [SetUp]
    public async Task StartCollector()
    {
        _folder = new TempFolder();
        _collector = await RaccoonCollector.StartAsync(cancellationToken: Timeouts.Guard());
    }

    [TearDown]
    public async Task StopCollector()
    {
        await _collector.DisposeAsync();
        _folder.Dispose();
    }

    [Test]
    public async Task Host_stop_flushes_every_tracked_event_to_the_collector()
    {
        var configuration = ClickstreamHost.Configuration(_collector, _folder);
        // Neither a full batch nor the batch timer: only the flush when the host stops sends these events.
        configuration["Clickstream:MaxBatchSize"] = "1000";
        configuration["Clickstream:MaxTimeBetweenTwoBatches"] = "01:00:00";
        configuration["Clickstream:InstantEventTypes:0"] = "Click";
        using var host = ClickstreamHost.Build(configuration);
        await host.StartAsync(Timeouts.Guard());

        var pipeline = host.Services.GetRequiredService<ClickstreamPipeline>();
        var sent = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var message = i % 3 == 0 ? (Google.Protobuf.IMessage)SampleEvents.Click(i) : SampleEvents.PageView(i);
            await pipeline.TrackAsync(message);
            sent.Add(PipelineHarness.Payload(message));
        }

        Assert.That(_collector.Stats.Events, Is.Zero, "nothing is sent before the host stops");
        await host.StopAsync(Timeouts.Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.Stats.ReceivedEvents().Select(e => Convert.ToBase64String(e.Bytes)), Is.EquivalentTo(sent));
            Assert.That(_collector.Stats.EventsByType()["click"], Is.EqualTo(100), "Click is QoS0 through the configuration");
            Assert.That(pipeline.GetStatistics().InstantEventsTracked, Is.EqualTo(100));
        }
    }

    [Test]
    public async Task Host_dispose_closes_the_pipeline()
    {
        var host = ClickstreamHost.Build(ClickstreamHost.Configuration(_collector, _folder));
        await host.StartAsync(Timeouts.Guard());
        var pipeline = host.Services.GetRequiredService<ClickstreamPipeline>();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await host.StopAsync(Timeouts.Guard());
        await ((IAsyncDisposable)host).DisposeAsync();

        Assert.That(() => pipeline.TrackAsync(SampleEvents.PageView(2)), Throws.TypeOf<ObjectDisposedException>());
        // The store is closed: a new pipeline can open the same file.
        await using var again = ClickstreamPipeline.Create(new ClickstreamOptions { Endpoint = _collector.EventsEndpoint, StoragePath = _folder.StorePath, DetectNetworkChanges = false });
        Assert.That(_collector.Stats.Events, Is.EqualTo(1));
    }

    [Test]
    public async Task Invalid_configuration_fails_the_host_start_naming_every_invalid_option()
    {
        var configuration = ClickstreamHost.Configuration(_collector, _folder);
        configuration.Remove("Clickstream:Endpoint");
        configuration["Clickstream:MaxBatchSize"] = "0";
        configuration["Clickstream:WebSocket:AckTimeout"] = "-00:00:01";
        using var host = ClickstreamHost.Build(configuration);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Timeouts.Guard()));
        Assert.That(error!.Message, Does.Contain("Endpoint is required")
            .And.Contain("MaxBatchSize must be greater than zero")
            .And.Contain("WebSocket.AckTimeout must be greater than zero"));
    }

    [Test]
    public async Task Unknown_configuration_key_fails_the_host_start_naming_the_key()
    {
        var configuration = ClickstreamHost.Configuration(_collector, _folder);
        configuration["Clickstream:MaxBatchSzie"] = "10";
        using var host = ClickstreamHost.Build(configuration);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Timeouts.Guard()));
        Assert.That(error!.Message, Does.Contain("MaxBatchSzie"));
    }

    [Test]
    public async Task Unwritable_storage_path_fails_the_host_start()
    {
        var configuration = ClickstreamHost.Configuration(_collector, _folder);
        var file = Path.Combine(_folder.Path, "a-file");
        File.WriteAllText(file, "not a folder");
        configuration["Clickstream:StoragePath"] = Path.Combine(file, "events.db");
        using var host = ClickstreamHost.Build(configuration);

        var error = await Assert.ThrowsAsync<ClickstreamStorageException>(() => host.StartAsync(Timeouts.Guard()));
        Assert.That(error!.Message, Does.Contain("StoragePath"));
    }

    [Test]
    public async Task App_delegating_handler_sees_every_request_with_the_pipeline_headers()
    {
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { BearerToken = "secret" }, Timeouts.Guard());
        var configuration = ClickstreamHost.Configuration(collector, _folder);
        configuration["Clickstream:MaxBatchSize"] = "10";
        configuration["Clickstream:Headers:X-User-ID"] = "user-7";
        var seen = new ConcurrentQueue<HttpRequestMessage>();
        using var host = ClickstreamHost.Build(configuration, builder =>
        {
            builder.Services.Configure<ClickstreamOptions>(o => o.AuthorizationProvider = _ => ValueTask.FromResult("Bearer secret"));
            builder.Services.AddHttpClient(ClickstreamServiceCollectionExtensions.HttpClientName)
                .AddHttpMessageHandler(() => new RecordingHandler(seen));
        });
        await host.StartAsync(Timeouts.Guard());
        var pipeline = host.Services.GetRequiredService<ClickstreamPipeline>();
        for (var i = 0; i < 50; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Timeouts.Guard());
        await host.StopAsync(Timeouts.Guard());

        var posts = seen.Where(r => r.Method == HttpMethod.Post).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(collector.Stats.Events, Is.EqualTo(50));
            // At least 5 batches of 10; the batch timer may cut one earlier on a slow machine: every one is seen.
            Assert.That(posts, Has.Count.EqualTo(collector.Stats.Requests).And.Count.GreaterThanOrEqualTo(5));
            Assert.That(posts.Select(r => r.Headers.Authorization?.ToString()), Is.All.EqualTo("Bearer secret"));
            Assert.That(posts.Select(r => string.Join(",", r.Headers.GetValues("X-User-ID"))), Is.All.EqualTo("user-7"));
        }
    }

    [Test]
    public async Task Pinned_certificate_still_applies_through_the_http_client_factory()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { ServerCertificate = certificate }, Timeouts.Guard());
        var seen = new ConcurrentQueue<HttpRequestMessage>();
        using var host = ClickstreamHost.Build(ClickstreamHost.Configuration(collector, _folder), builder =>
        {
            builder.Services.Configure<ClickstreamOptions>(o => o.ServerCertificateValidation = TestCertificates.Trust(certificate));
            builder.Services.AddHttpClient(ClickstreamServiceCollectionExtensions.HttpClientName)
                .AddHttpMessageHandler(() => new RecordingHandler(seen));
        });
        await host.StartAsync(Timeouts.Guard());
        var pipeline = host.Services.GetRequiredService<ClickstreamPipeline>();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await pipeline.FlushAsync(Timeouts.Guard());
        await host.StopAsync(Timeouts.Guard());

        Assert.That(collector.EventsEndpoint.Scheme, Is.EqualTo("https"));
        Assert.That(collector.Stats.Events, Is.EqualTo(1));
        Assert.That(seen, Is.Not.Empty, "sent through the factory's client");
    }

    /// <summary>An app's handler: records each request it passes on.</summary>
    private sealed class RecordingHandler(ConcurrentQueue<HttpRequestMessage> seen) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Enqueue(request);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
