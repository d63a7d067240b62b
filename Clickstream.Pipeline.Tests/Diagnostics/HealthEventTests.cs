using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;
using static Clickstream.Pipeline.ClickstreamHealthEventKind;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>
/// The health events a recording <see cref="ClickstreamOptions.HealthObserver"/> receives from a pipeline sending to the
/// real collector. The observer is called from a queue drained apart from the reporting threads, so each test waits for
/// <c>HealthDelivered</c> (what was reported so far has reached the observer) before it looks.
/// </summary>
public class HealthEventTests : PipelineTestBase
{
    private HealthRecorder _health = null!;

    [SetUp]
    public void Record() => _health = new HealthRecorder();

    private ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null) =>
        Harness.CreateRetrying(o =>
        {
            o.HealthObserver = _health;
            o.InstantEventTypes.Add("Click");
            configure?.Invoke(o);
        });

    [Test]
    public async Task Each_delivered_batch_is_created_sent_and_acknowledged_with_its_req_guid_and_the_observer_completes_at_dispose()
    {
        var pipeline = Create();
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        var received = Harness.Collector.Stats.ReceivedEvents().Select(e => Guid.Parse(e.RequestGuid)).Distinct().ToList();
        var now = Harness.Time.GetUtcNow();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_health.Of(BatchCreated).Select(e => e.EventCount), Is.EqualTo(new[] { 5, 5 }));
            Assert.That(_health.Of(BatchSent).Select(e => e.RequestGuid), Is.EquivalentTo(received));
            Assert.That(_health.Of(BatchAcknowledged).Select(e => e.RequestGuid), Is.EquivalentTo(received));
            Assert.That(_health.Of(BatchAcknowledged).Select(e => e.EventCount), Is.EqualTo(new[] { 5, 5 }));
            Assert.That(_health.Events.Select(e => e.Timestamp), Is.All.EqualTo(now), "stamped on the pipeline's clock");
            Assert.That(_health.Of(BatchFailed), Is.Empty);
            Assert.That(_health.Completed, Is.False);
        }

        await pipeline.DisposeAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_health.Completed, Is.True);
            Assert.That(_health.Overlapped, Is.False, "the observer is called serially");
        }
    }

    [Test]
    public async Task Failed_batch_reports_its_kind_and_req_guid_the_dropped_QoS0_events_in_one_event_and_the_retry()
    {
        Harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Create(o => o.MaxBatchSize = 10);
        await PipelineHarness.TrackAsync(pipeline, pageViews: 5, clicks: 5);

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        var sent = _health.Of(BatchSent).Single();
        var failed = _health.Of(BatchFailed).Single();
        var dropped = _health.Of(EventsDropped).Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed.RequestGuid, Is.EqualTo(sent.RequestGuid).And.Not.Null);
            Assert.That(failed.EventCount, Is.EqualTo(10));
            Assert.That(failed.Reason, Is.EqualTo("server_error"));
            Assert.That(failed.Detail, Is.Not.Null);
            Assert.That(dropped.Reason, Is.EqualTo("send_failed"));
            Assert.That(dropped.EventCount, Is.EqualTo(5));
            Assert.That(_health.Of(BatchRetried), Is.Empty, "not before the backoff delay");
        }

        Harness.Time.Advance(PipelineHarness.RetryMax);
        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_health.Of(BatchRetried).Single().EventCount, Is.EqualTo(5));
            Assert.That(_health.Of(BatchAcknowledged).Single().EventCount, Is.EqualTo(5));
            Assert.That(_health.Of(EventsDropped), Has.Count.EqualTo(1), "nothing more dropped");
        }
    }

    [Test]
    public async Task Overflow_and_shutdown_drops_are_reported_in_aggregate_not_per_event()
    {
        var pipeline = Create(o => o.MaxQueuedEvents = 2);
        pipeline.Pause();
        for (var i = 0; i < 50; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await pipeline.DisposeAsync();
        var dropped = _health.Of(EventsDropped);
        Assert.That(dropped.Select(e => (e.Reason, e.EventCount)), Is.EquivalentTo(new[] { ("overflow", 48), ("shutdown", 2) }));
    }

    [Test]
    public async Task Evictions_are_reported_by_reason()
    {
        var pipeline = Create(o =>
        {
            o.MaxBatchSize = 10;
            o.MaxInMemoryStoredEvents = 10;
            o.MaxStoredEvents = 40;
        });
        pipeline.Pause();
        for (var i = 0; i < 100; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        var evicted = pipeline.GetStatistics().EventsEvictedOverCapacity;
        pipeline.Resume();
        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        Assert.That(_health.Of(EventsEvicted).Select(e => (e.Reason, (long)e.EventCount)), Is.EqualTo(new[] { ("over_capacity", evicted) }));
    }

    [Test]
    public async Task Event_refused_on_its_own_is_reported_dead_lettered_and_each_refusal_as_rejected()
    {
        var poison = SampleEvents.PageView(1);
        var pipeline = Harness.Create(
            o =>
            {
                o.HealthObserver = _health;
                o.MaxBatchSize = 2;
            },
            settings => new RefusingTransport(new HttpTransport(settings, json: false), PipelineHarness.Payload(poison)));
        // An acknowledged request first: only an endpoint that takes other events proves the lone refusal is the event's.
        await pipeline.TrackAsync(SampleEvents.PageView(0));
        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.TrackAsync(SampleEvents.PageView(2));
        await pipeline.TrackAsync(poison);
        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_health.Of(EventDeadLettered).Select(e => (e.EventCount, e.Reason)), Is.EqualTo(new[] { (1, "rejected") }));
            Assert.That(_health.Of(BatchFailed).Select(e => e.Reason), Is.EqualTo(new[] { "rejected", "rejected" }), "the pair, then the poison alone");
        }
    }

    [Test]
    public async Task Server_down_is_reported_as_a_connection_failure_and_its_return_as_restored()
    {
        var pipeline = Create();
        await Harness.MakeUnreachableAsync(pipeline, PipelineHarness.RetryMax);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        var failed = _health.Of(ConnectionFailed).Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed.Reason, Is.EqualTo("network_error"));
            Assert.That(_health.Of(BatchFailed).Select(e => e.Reason), Is.All.EqualTo("network_error"));
            Assert.That(_health.Of(ConnectionRestored), Is.Empty);
        }

        await Harness.StartCollectorAgainAsync();
        Harness.Time.Advance(PipelineHarness.RetryMax);
        await Harness.WaitAsync(pipeline, s => s.IsReachable);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        Assert.That(_health.Of(ConnectionRestored), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Observer_that_throws_is_counted_and_logged_once_and_delivery_goes_on()
    {
        _health.Throw = true;
        var logs = new RecordingLoggerFactory();
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(m => factory.Meters.Contains(m));
        var pipeline = Create(o =>
        {
            o.LoggerFactory = logs;
            o.MeterFactory = factory;
        });
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);
        metrics.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(10));
            Assert.That(_health.Calls, Is.GreaterThanOrEqualTo(6));
            Assert.That(metrics.Observed("clickstream.health.observer_errors"), Is.EqualTo(_health.Calls));
            Assert.That(logs.Count(12), Is.EqualTo(1), "logged once");
        }
    }
}
