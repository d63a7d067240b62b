using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class FailureTests : PipelineTestBase
{
    private static readonly TimeSpan RetryBase = TimeSpan.FromSeconds(2);

    private ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null, Func<PipelineSettings, IEventTransport>? transport = null) =>
        Harness.Create(
            o =>
            {
                o.MaxBatchSize = 5;
                o.RetryBaseDelay = RetryBase;
                o.RetryMaxDelay = TimeSpan.FromSeconds(60);
                configure?.Invoke(o);
            },
            transport,
            // Jitter drawn at the top of the window: each retry delay is (just under) its ceiling.
            new() { Random = FixedRandom.Ceiling });

    [TestCase(500)]
    [TestCase(503)]
    [TestCase(429)]
    public async Task Server_error_makes_the_same_events_arrive_again_after_the_backoff(int status)
    {
        Harness.Collector.Faults.FailNext(1, status);
        var pipeline = Create();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Harness.Time.Advance(RetryBase - TimeSpan.FromMilliseconds(10));
        Assert.That(pipeline.GetStatistics().BatchesRetried, Is.Zero, "never re-sent before the backoff delay");
        Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Has.Count.EqualTo(5), "a failed request deletes nothing");

        Harness.Time.Advance(TimeSpan.FromMilliseconds(10));
        await Harness.Collector.WaitForEventsAsync(5, Harness.Guard);
        var stats = await Harness.WaitAsync(pipeline, s => s.EventsAcknowledged == 5);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Enumerable.Range(0, 5).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(Harness.Collector.Stats.FailedRequests, Is.EqualTo(1));
            Assert.That(stats.BatchesRetried, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Backoff_doubles_while_the_server_keeps_failing()
    {
        Harness.Collector.Faults.AlwaysFail(500);
        var pipeline = Create();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Harness.Time.Advance(RetryBase);
        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 2);

        // Second failure in a row: 4 s. Nothing goes out in the first 4 s less a little.
        Harness.Time.Advance(RetryBase * 2 - TimeSpan.FromMilliseconds(10));
        Assert.That(pipeline.GetStatistics().BatchesSent, Is.EqualTo(2));

        Harness.Collector.Faults.AlwaysFail(null);
        Harness.Time.Advance(TimeSpan.FromMilliseconds(10));
        await Harness.WaitAsync(pipeline, s => s.EventsAcknowledged == 5);
        Assert.That(Harness.Collector.Stats.Requests, Is.EqualTo(3));
    }

    [Test]
    public async Task Ack_with_another_req_guid_deletes_nothing_and_the_batch_is_sent_again()
    {
        Harness.Collector.Faults.RespondWithWrongRequestGuid = true;
        var pipeline = Create();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Has.Count.EqualTo(5));

        Harness.Collector.Faults.RespondWithWrongRequestGuid = false;
        Harness.Time.Advance(RetryBase);
        await Harness.WaitAsync(pipeline, s => s.EventsAcknowledged == 5);
        Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.Empty);
    }

    [Test]
    public async Task QoS0_events_of_a_failed_request_are_dropped_and_counted_not_sent_again()
    {
        Harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Create(o => o.InstantEventTypes.Add("Click"));
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        // QoS0 is at-most-once: the flush completes without a retry, the events definitively failed.
        await pipeline.FlushAsync(Harness.Guard);
        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.EventsDroppedSendFailed, Is.EqualTo(5));
            Assert.That(stats.BatchesRetried, Is.Zero);
            Assert.That(Harness.Collector.Stats.Events, Is.Zero);
        }
    }

    [Test]
    public async Task Unreachable_server_is_retried_not_thrown_at_the_app()
    {
        var deadEndpoint = new Uri("http://127.0.0.1:1/api/v1/events");
        var pipeline = Create(o => o.Endpoint = deadEndpoint);
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        var stats = await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Assert.That(stats.EventsPendingOnDisk, Is.EqualTo(5));
    }

    [Test]
    public async Task Exception_inside_a_send_does_not_stop_the_pipeline()
    {
        var pipeline = Create(transport: settings => new ThrowOnceTransport(new HttpTransport(settings, json: false)));
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.Collector.WaitForEventsAsync(5, Harness.Guard);
        await Harness.WaitAsync(pipeline, s => s.EventsAcknowledged == 5 && s.BatchesFailed == 1);
        Assert.That(pipeline.GetStatistics().BatchesSent, Is.EqualTo(2), "the block kept running after the exception");

        // The batch that threw failed like any other: its events are sent again after the backoff.
        Harness.Time.Advance(TimeSpan.FromSeconds(60));
        await Harness.Collector.WaitForEventsAsync(10, Harness.Guard);
        var stats = await Harness.WaitAsync(pipeline, s => s.EventsAcknowledged == 10);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.BatchesRetried, Is.EqualTo(1));
            Assert.That(stats.EventsPendingOnDisk, Is.Zero);
        }
    }

    [Test]
    public async Task Batch_refused_as_bad_is_split_until_the_bad_event_is_alone_and_dead_lettered()
    {
        var poison = SampleEvents.PageView(5);
        var pipeline = Create(
            o => o.MaxBatchSize = 8,
            settings => new RefusingTransport(new HttpTransport(settings, json: false), PipelineHarness.Payload(poison)));

        // The endpoint acknowledges other requests: a lone refusal is then the event's own.
        await pipeline.TrackAsync(SampleEvents.PageView(100));
        await pipeline.FlushAsync(Harness.Guard);
        for (var i = 0; i < 8; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        var stats = pipeline.GetStatistics();
        var letters = pipeline.GetDeadLetters();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 8).Where(i => i != 5).Append(100).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(stats.EventsDeadLettered, Is.EqualTo(1));
            Assert.That(stats.BatchesSplit, Is.EqualTo(3), "8 -> 4 + 4 -> 2 + 2 -> 1 + 1");
            Assert.That(stats.BatchesRetried, Is.Zero, "a permanent rejection is never retried as it was");
            Assert.That(stats.EventsPendingOnDisk, Is.Zero, "the bad event left the pending events");
            Assert.That(letters, Has.Count.EqualTo(1));
            Assert.That(letters[0].EventBytes, Is.EqualTo(poison.ToByteArray()));
            Assert.That(letters[0].Reason, Does.Contain("400"));
            Assert.That(letters[0].Type, Is.EqualTo("pageview"));
        }
    }

    /// <summary>Throws from its first send, as a bug in a transport would; the real transport after that.</summary>
    private sealed class ThrowOnceTransport(IEventTransport inner) : IEventTransport
    {
        private int _calls;

        public Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _calls) == 1
                ? throw new InvalidOperationException("transport bug")
                : inner.SendAsync(requestGuid, events, cancellationToken);

        public void Dispose() => inner.Dispose();
    }
}
