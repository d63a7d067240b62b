using System.Diagnostics.Metrics;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>
/// Every instrument of the <c>Clickstream.Pipeline</c> meter, read with a real <see cref="MeterListener"/> (observable
/// instruments collected with <see cref="MeterListener.RecordObservableInstruments"/>) from a pipeline sending to the
/// real collector.
/// </summary>
public class MetricsTests : PipelineTestBase
{
    private static readonly TimeSpan RetryBase = TimeSpan.FromSeconds(2);

    private TestMeterFactory _factory = null!;
    private MetricsRecorder _metrics = null!;

    [SetUp]
    public void Listen()
    {
        _factory = new TestMeterFactory();
        _metrics = new MetricsRecorder(meter => _factory.Meters.Contains(meter));
    }

    [TearDown]
    public void StopListening()
    {
        _metrics.Dispose();
        _factory.Dispose();
    }

    private ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null, PipelineHooks? hooks = null) =>
        Harness.Create(
            o =>
            {
                o.MeterFactory = _factory;
                o.MaxBatchSize = 5;
                o.InstantEventTypes.Add("Click");
                o.RetryBaseDelay = RetryBase;
                o.RetryMaxDelay = TimeSpan.FromSeconds(60);
                configure?.Invoke(o);
            },
            hooks: (hooks ?? PipelineHooks.None) with { Random = FixedRandom.Ceiling });

    [Test]
    public async Task Delivered_events_are_counted_by_qos_type_and_batch_and_each_request_is_recorded()
    {
        var pipeline = Create();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        for (var i = 0; i < 3; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        var batches = pipeline.GetStatistics().BatchesSent;
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(batches, Is.GreaterThanOrEqualTo(2));
            Assert.That(_metrics.Observed("clickstream.events.tracked", ("qos", "1"), ("type", "pageview")), Is.EqualTo(5));
            Assert.That(_metrics.Observed("clickstream.events.tracked", ("qos", "0"), ("type", "click")), Is.EqualTo(3));
            Assert.That(_metrics.Observed("clickstream.events.stored"), Is.EqualTo(5));
            Assert.That(_metrics.Observed("clickstream.events.sent"), Is.EqualTo(8));
            Assert.That(_metrics.Observed("clickstream.events.acknowledged"), Is.EqualTo(8));
            Assert.That(_metrics.Observed("clickstream.batches.sent"), Is.EqualTo(batches));
            Assert.That(_metrics.Observed("clickstream.batches.acknowledged"), Is.EqualTo(batches));
            Assert.That(_metrics.Recorded("clickstream.batch.size").Sum(), Is.EqualTo(8));
            Assert.That(_metrics.Recorded("clickstream.batch.size"), Has.Count.EqualTo(batches));
            Assert.That(_metrics.Recorded("clickstream.request.duration", ("outcome", "acknowledged")), Has.Count.EqualTo(batches).And.All.GreaterThanOrEqualTo(0));
            Assert.That(_metrics.Observed("clickstream.events.pending_on_disk"), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.events.in_flight"), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.reachable"), Is.EqualTo(1));
            Assert.That(_metrics.Observed("clickstream.health.events", ("kind", "batch_created")), Is.EqualTo(batches));
            Assert.That(_metrics.Observed("clickstream.health.events", ("kind", "batch_sent")), Is.EqualTo(batches));
            Assert.That(_metrics.Observed("clickstream.health.events", ("kind", "batch_acknowledged")), Is.EqualTo(batches));
        }
    }

    [Test]
    public async Task Every_instrument_has_a_unit_and_a_description_and_the_meter_its_instance_tag()
    {
        var pipeline = Create();
        await pipeline.TrackAsync(SampleEvents.PageView(1));

        var meter = _factory.Meters.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(meter.Name, Is.EqualTo("Clickstream.Pipeline"));
            Assert.That(meter.Version, Is.Not.Null.And.Not.Empty);
            Assert.That(meter.Tags, Does.Contain(new KeyValuePair<string, object?>("clickstream.pipeline.instance", pipeline.MetricsInstance)));
            Assert.That(_metrics.Instruments.Keys, Is.EquivalentTo(new[]
            {
                "clickstream.events.tracked", "clickstream.events.stored", "clickstream.events.dropped", "clickstream.events.evicted",
                "clickstream.events.dead_lettered", "clickstream.events.sent", "clickstream.events.acknowledged",
                "clickstream.batches.sent", "clickstream.batches.acknowledged", "clickstream.batches.failed", "clickstream.batches.retried",
                "clickstream.request.duration", "clickstream.batch.size",
                "clickstream.events.pending_on_disk", "clickstream.events.in_memory", "clickstream.events.in_flight", "clickstream.reachable",
                "clickstream.health.events", "clickstream.health.observer_errors",
                "clickstream.events.salvaged", "clickstream.events.unreadable",
                "clickstream.dead_letters.evicted",
            }));
            foreach (var instrument in _metrics.Instruments.Values)
            {
                Assert.That(instrument.Unit, Is.Not.Null.And.Not.Empty, instrument.Name);
                Assert.That(instrument.Description, Is.Not.Null.And.Not.Empty, instrument.Name);
            }
        }
    }

    [Test]
    public async Task Held_events_show_on_disk_in_memory_and_unreachable_then_in_flight_while_the_server_has_not_answered()
    {
        var pipeline = Create(o => o.MaxBatchSize = 100);
        pipeline.Pause();
        for (var i = 0; i < 4; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        for (var i = 0; i < 2; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_metrics.Observed("clickstream.events.pending_on_disk"), Is.EqualTo(4));
            Assert.That(_metrics.Observed("clickstream.events.in_memory", ("qos", "1")), Is.EqualTo(4));
            Assert.That(_metrics.Observed("clickstream.events.in_memory", ("qos", "0")), Is.EqualTo(2));
            Assert.That(_metrics.Observed("clickstream.reachable"), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.events.in_flight"), Is.Zero);
        }

        Harness.Collector.Faults.WithholdResponses = true;
        pipeline.Resume();
        var flush = pipeline.FlushAsync(Harness.Guard);
        await Harness.Collector.WaitForEventsAsync(6, Harness.Guard);
        _metrics.Collect();
        Assert.That(_metrics.Observed("clickstream.events.in_flight"), Is.EqualTo(6));

        Harness.Collector.Faults.WithholdResponses = false;
        await flush;
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_metrics.Observed("clickstream.events.in_flight"), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.events.in_memory", ("qos", "1")), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.events.in_memory", ("qos", "0")), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.reachable"), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Failed_request_is_counted_by_kind_its_QoS1_events_retried_and_its_QoS0_events_dropped()
    {
        Harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Create(o => o.MaxBatchSize = 10);
        await PipelineHarness.TrackAsync(pipeline, pageViews: 5, clicks: 5);

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Harness.Time.Advance(RetryBase);
        await pipeline.FlushAsync(Harness.Guard);
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_metrics.Observed("clickstream.batches.failed", ("kind", "server_error")), Is.EqualTo(1));
            Assert.That(_metrics.ObservedAll("clickstream.batches.failed").Where(m => m.Key != "kind=server_error").Select(m => m.Value), Is.All.Zero);
            Assert.That(_metrics.ObservedAll("clickstream.batches.failed").Keys, Is.EquivalentTo(new[]
            {
                "kind=network_error", "kind=timeout", "kind=server_error", "kind=rejected", "kind=throttled", "kind=unauthorized", "kind=invalid_response", "kind=misconfigured", "kind=app_error",
            }));
            Assert.That(_metrics.Observed("clickstream.batches.retried"), Is.EqualTo(1));
            Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "send_failed")), Is.EqualTo(5));
            Assert.That(_metrics.Recorded("clickstream.request.duration", ("outcome", "server_error")), Has.Count.EqualTo(1));
            Assert.That(_metrics.Recorded("clickstream.request.duration", ("outcome", "acknowledged")), Has.Count.EqualTo(1));
            Assert.That(_metrics.Observed("clickstream.health.events", ("kind", "batch_failed")), Is.EqualTo(1));
            Assert.That(_metrics.Observed("clickstream.health.events", ("kind", "batch_retried")), Is.EqualTo(1));
            Assert.That(_metrics.Observed("clickstream.health.events", ("kind", "events_dropped")), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task QoS0_overflow_and_shutdown_drops_are_counted_by_reason_and_still_read_from_the_factory_meter_after_dispose()
    {
        var pipeline = Create(o => o.MaxQueuedEvents = 2);
        pipeline.Pause();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        _metrics.Collect();
        Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "overflow")), Is.EqualTo(3));

        await pipeline.DisposeAsync();
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "overflow")), Is.EqualTo(3));
            Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "shutdown")), Is.EqualTo(2));
            Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "cancelled")), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "store_failed")), Is.Zero);
            Assert.That(_metrics.Observed("clickstream.events.in_memory", ("qos", "0")), Is.Zero);
            Assert.That(_metrics.Completed, Is.Empty, "the factory's meter is the factory's to dispose");
        }
    }

    [Test]
    public async Task QoS1_commit_on_a_full_disk_is_counted_as_dropped_store_failed()
    {
        var files = new FaultyFileSystem();
        var pipeline = Create(hooks: new() { FileSystem = files });
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        files.DiskFull = true;
        await Assert.ThrowsAsync<ClickstreamStorageException>(async () => await pipeline.TrackAsync(SampleEvents.PageView(2)));
        files.DiskFull = false;

        _metrics.Collect();
        Assert.That(_metrics.Observed("clickstream.events.dropped", ("reason", "store_failed")), Is.EqualTo(1));
        await pipeline.DisposeAsync();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Test]
    public async Task Evictions_are_counted_by_reason()
    {
        var pipeline = Create(o =>
        {
            o.MaxBatchSize = 10;
            o.MaxInMemoryStoredEvents = 10;
            o.MaxStoredEvents = 40;
            o.EventTimeToLive = TimeSpan.FromHours(1);
        });
        pipeline.Pause();
        for (var i = 0; i < 100; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        var overCapacity = pipeline.GetStatistics().EventsEvictedOverCapacity;
        Harness.Time.Advance(TimeSpan.FromHours(2));
        var statistics = await Harness.WaitAsync(pipeline, s => s.EventsEvictedExpired > 0);
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(overCapacity, Is.GreaterThan(0));
            Assert.That(_metrics.Observed("clickstream.events.evicted", ("reason", "over_capacity")), Is.EqualTo(overCapacity));
            Assert.That(_metrics.Observed("clickstream.events.evicted", ("reason", "expired")), Is.EqualTo(statistics.EventsEvictedExpired));
        }
    }

    [Test]
    public async Task Dead_letters_evicted_by_MaxDeadLetters_are_counted()
    {
        var pipeline = Harness.Create(
            o =>
            {
                o.MeterFactory = _factory;
                o.MaxDeadLetters = 1;
            },
            settings => new RefusingTransport(
                new HttpTransport(settings, json: false), PipelineHarness.Payload(SampleEvents.PageView(1)), PipelineHarness.Payload(SampleEvents.PageView(2))));
        await pipeline.TrackAsync(SampleEvents.PageView(10));
        await pipeline.FlushAsync(Harness.Guard);
        await PipelineHarness.TrackAsync(pipeline, pageViews: 4);

        await pipeline.FlushAsync(Harness.Guard);
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_metrics.Observed("clickstream.events.dead_lettered"), Is.EqualTo(2));
            Assert.That(_metrics.Observed("clickstream.dead_letters.evicted"), Is.EqualTo(1));
            Assert.That(pipeline.GetStatistics().DeadLettersEvicted, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Event_refused_on_its_own_is_counted_as_dead_lettered()
    {
        var poison = SampleEvents.PageView(3);
        var pipeline = Harness.Create(
            o => o.MeterFactory = _factory,
            settings => new RefusingTransport(new HttpTransport(settings, json: false), PipelineHarness.Payload(poison)));
        await pipeline.TrackAsync(SampleEvents.PageView(10));
        await pipeline.FlushAsync(Harness.Guard);
        for (var i = 0; i < 4; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        _metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_metrics.Observed("clickstream.events.dead_lettered"), Is.EqualTo(1));
            Assert.That(_metrics.Observed("clickstream.batches.failed", ("kind", "rejected")), Is.EqualTo(3), "4 -> 2 + 2 -> 1 + 1: three refusals");
        }
    }

    [Test]
    public async Task Two_pipelines_in_one_process_report_apart_and_a_pipeline_disposes_its_own_meter()
    {
        await using var other = await PipelineHarness.StartAsync();
        var first = Harness.Create();
        var second = other.Create();
        using var firstMetrics = new MetricsRecorder(m => Instance(m) == first.MetricsInstance);
        using var secondMetrics = new MetricsRecorder(m => Instance(m) == second.MetricsInstance);
        for (var i = 0; i < 3; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        for (var i = 0; i < 5; i++)
        {
            await second.TrackAsync(SampleEvents.PageView(i));
        }

        firstMetrics.Collect();
        secondMetrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.MetricsInstance, Is.Not.EqualTo(second.MetricsInstance));
            Assert.That(firstMetrics.Observed("clickstream.events.stored"), Is.EqualTo(3));
            Assert.That(secondMetrics.Observed("clickstream.events.stored"), Is.EqualTo(5));
        }

        await first.DisposeAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(firstMetrics.Completed, Is.EquivalentTo(firstMetrics.Instruments.Keys), "its own meter is disposed with the pipeline");
            Assert.That(secondMetrics.Completed, Is.Empty);
        }
    }

    private static string? Instance(Meter meter) =>
        meter.Tags?.FirstOrDefault(t => t.Key == "clickstream.pipeline.instance").Value as string;
}
