using Clickstream.Pipeline.Tests.Diagnostics;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// The app's own code in the send path and a deployment that is slightly wrong, against the real collector (issue 11):
/// in each case, once the fault ends every QoS1 event arrives, nothing is dead-lettered, <c>FlushAsync</c> completes,
/// and the counters, the health events and the log say what happened. The token provider cases run against every
/// transport in <c>Contract/TransportContractTests</c>.
/// </summary>
public class AdversaryTests : PipelineTestBase
{
    private const int Events = 200;
    private const int BatchSize = 10;
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private HealthRecorder _health = null!;
    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void Record()
    {
        _health = new HealthRecorder();
        _logs = new RecordingLoggerFactory();
    }

    [TearDown]
    public void StopRecording() => _logs.Dispose();

    [Test]
    public async Task Token_provider_that_throws_three_times_fails_three_batches_then_every_event_arrives()
    {
        var calls = 0;
        var pipeline = Create(o => o.AuthorizationProvider = _ =>
            Interlocked.Increment(ref calls) <= 3 ? throw new InvalidOperationException("token service down") : ValueTask.FromResult("Bearer token"));
        await TrackAsync(pipeline);
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            AssertEveryEventArrived(stats);
            Assert.That(stats.BatchesFailedTransient, Is.EqualTo(3), "each throw failed its batch");
            Assert.That(stats.BatchesRetried, Is.EqualTo(3));
            Assert.That(_health.Of(ClickstreamHealthEventKind.BatchFailed).Select(e => e.Reason), Is.All.EqualTo("app_error"));
        }
    }

    [Test]
    public async Task Handler_that_throws_twice_fails_two_batches_then_every_event_arrives()
    {
        using var handler = new MisbehavingHandler(throwTimes: 2, hangTimes: 0);
        var pipeline = Create(o => o.HttpMessageHandler = handler);
        await TrackAsync(pipeline);
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            AssertEveryEventArrived(stats);
            Assert.That(stats.BatchesFailedTransient, Is.EqualTo(2), "each throw failed its batch");
            Assert.That(stats.BatchesRetried, Is.EqualTo(2));
            Assert.That(_health.Of(ClickstreamHealthEventKind.BatchFailed).Select(e => e.Reason), Is.EqualTo(new[] { "app_error", "app_error" }));
            Assert.That(_logs.Count(2), Is.EqualTo(1), "logged once per episode");
        }
    }

    [Test]
    public async Task Handler_that_hangs_ignoring_its_token_is_abandoned_and_its_batch_retried()
    {
        using var handler = new MisbehavingHandler(throwTimes: 0, hangTimes: 1);
        var pipeline = Create(o => o.HttpMessageHandler = handler);
        await TrackAsync(pipeline, count: BatchSize);
        await handler.Hanging.WaitAsync(Harness.Guard);

        // The transport's own timeout cannot end a handler that ignores it; the egress gives up a second later.
        Harness.Time.Advance(RequestTimeout);
        Harness.Time.Advance(TimeSpan.FromSeconds(1));
        var failed = await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed.BatchesFailedTransient, Is.EqualTo(1));
            Assert.That(failed.BatchesRetried, Is.Zero, "retried only after the backoff");
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(Payloads(BatchSize)));
            Assert.That(_health.Of(ClickstreamHealthEventKind.BatchFailed).Single().Detail, Does.Contain("abandoned"));
        }
    }

    [TestCase(404)]
    [TestCase(405)]
    [TestCase(407)]
    [TestCase(415)]
    public async Task Status_that_says_the_deployment_is_wrong_keeps_every_event_and_is_reported_once(int status)
    {
        const int Faulted = 8;
        Harness.Collector.Faults.FailNext(Faulted, status);

        // One request at a time, so that no failure is answered after the first ack: then there is exactly one episode.
        var pipeline = Create(o => o.MaxConcurrentRequests = 1);
        await TrackAsync(pipeline);
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            AssertEveryEventArrived(stats);
            Assert.That(stats.BatchesFailedConfiguration, Is.EqualTo(Faulted));
            Assert.That(stats.BatchesSplit, Is.Zero, "the events are not at fault: nothing is split");
            Assert.That(_health.Of(ClickstreamHealthEventKind.ConfigurationError), Has.Count.EqualTo(1), "once per episode");
            Assert.That(_health.Of(ClickstreamHealthEventKind.ConfigurationError)[0].Reason, Is.EqualTo("misconfigured"));
            Assert.That(_logs.Count(13), Is.EqualTo(1), "one error log per episode");
            Assert.That(_logs.Count(15), Is.EqualTo(1), "and one line when requests succeed again");
        }
    }

    [Test]
    public async Task Wrong_endpoint_path_dead_letters_nothing_and_the_events_arrive_from_the_right_one()
    {
        var wrong = new Uri(Harness.Collector.BaseAddress, "/api/v1/evnts");
        var pipeline = Create(o =>
        {
            o.Endpoint = wrong;
            o.RequestTimeout = TimeSpan.FromHours(1);
        });
        await TrackAsync(pipeline);

        // Ten backoff periods of a server that answers 404 to everything.
        for (var step = 1; step <= 10; step++)
        {
            var before = pipeline.GetStatistics();
            Harness.Time.Advance(RetryMax);
            await Harness.WaitAsync(pipeline, s => s.BatchesFailed > before.BatchesFailed);
        }

        using var cancel = new CancellationTokenSource();
        var flush = pipeline.FlushAsync(cancel.Token);
        cancel.Cancel();
        Assert.That(async () => await flush, Throws.InstanceOf<OperationCanceledException>(), "cancelled by its own token, not hanging");

        var stats = pipeline.GetStatistics();
        WriteFigures(stats);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.EventsDeadLettered, Is.Zero);
            Assert.That(stats.BatchesSplit, Is.Zero);
            Assert.That(stats.EventsPendingOnDisk, Is.EqualTo(Events), "every event waits on disk");
            Assert.That(stats.BatchesFailedConfiguration, Is.EqualTo(stats.BatchesFailed));
            Assert.That(stats.BatchesSent, Is.LessThanOrEqualTo(Events / BatchSize * 12), "one request per batch per backoff period, not a storm");
            Assert.That(_logs.Count(13), Is.EqualTo(1));
        }

        await pipeline.DisposeAsync();
        var fixedPipeline = Create();
        await fixedPipeline.FlushAsync(Harness.Guard);
        AssertEveryEventArrived(fixedPipeline.GetStatistics());
    }

    [Test]
    public async Task Server_that_refuses_everything_as_bad_requests_dead_letters_nothing()
    {
        Harness.Collector.Faults.AlwaysFail(400);

        // The clock runs far ahead of the requests in flight here: a long timeout keeps them from being abandoned meanwhile.
        var pipeline = Create(o => o.RequestTimeout = TimeSpan.FromHours(1));
        await TrackAsync(pipeline, count: BatchSize);
        for (var step = 1; step <= 8; step++)
        {
            var before = pipeline.GetStatistics();
            Harness.Time.Advance(RetryMax);
            await Harness.WaitAsync(pipeline, s => s.BatchesFailed > before.BatchesFailed);
        }

        // No refusal may still be on its way when the server is fixed: answered after the first ack, it would be
        // taken for the event's own (the endpoint acknowledges others again) and dead-lettered.
        await Harness.WaitAsync(pipeline, _ => Volatile.Read(ref pipeline.Counters.EventsInFlight) == 0);
        var refused = pipeline.GetStatistics();
        WriteFigures(refused);
        Harness.Collector.Faults.AlwaysFail(null);
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(refused.EventsDeadLettered, Is.Zero, "nothing was ever acknowledged: the server is misconfigured, the events are not bad");
            Assert.That(refused.EventsPendingOnDisk, Is.EqualTo(BatchSize));
            Assert.That(refused.BatchesFailedRejected, Is.EqualTo(refused.BatchesFailed));
            Assert.That(refused.BatchesSplit, Is.Positive, "split to find the events at fault, but every piece waits the backoff before it goes again");
            Assert.That(refused.BatchesSent, Is.LessThanOrEqualTo((2 * BatchSize - 1) * 9), "at most one request per piece per backoff period");
            Assert.That(Harness.ReceivedPayloads().Distinct(), Is.EquivalentTo(Payloads(BatchSize)));
            Assert.That(pipeline.GetStatistics().EventsDeadLettered, Is.Zero);
        }
    }

    [Test]
    public async Task Batches_over_the_servers_size_limit_are_split_until_they_fit_and_nothing_is_dead_lettered()
    {
        // A collector whose request limit holds about 50 page views: every batch of 100 is answered 413.
        await using var harness = await PipelineHarness.StartAsync(o => o.MaxRequestBytes = 12_000);
        var pipeline = harness.Create(
            o =>
            {
                o.MaxBatchSize = 100;
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.RetryMaxDelay = RetryMax;
                o.HealthObserver = _health;
            },
            hooks: new() { Random = new Random(5) });
        await TrackAsync(pipeline);
        await harness.FlushDrivingTimeAsync(pipeline, RetryMax);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(harness.ReceivedPayloads().Distinct(), Is.EquivalentTo(Payloads(Events)), "every QoS1 event arrives");
            Assert.That(stats.BatchesFailedRejected, Is.EqualTo(Events / 100), "each batch of 100 refused once");
            Assert.That(stats.BatchesSplit, Is.EqualTo(Events / 100), "and split once: its halves fit");
            Assert.That(stats.EventsDeadLettered, Is.Zero);
            Assert.That(stats.EventsPendingOnDisk, Is.Zero);
            Assert.That(_health.Of(ClickstreamHealthEventKind.BatchFailed).Select(e => e.Reason).Distinct(), Is.EqualTo(new[] { "rejected" }));
        }

        TestContext.Out.WriteLine($"413: {harness.ReceivedPayloads().Distinct().Count()} distinct events received, {stats.BatchesSent} requests, rejected {stats.BatchesFailedRejected}, split {stats.BatchesSplit}, dead-lettered {stats.EventsDeadLettered}");
    }

    private ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null) =>
        Harness.Create(
            o =>
            {
                o.MaxBatchSize = BatchSize;
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.RetryMaxDelay = RetryMax;
                o.RequestTimeout = RequestTimeout;
                o.HealthObserver = _health;
                o.LoggerFactory = _logs;
                configure?.Invoke(o);
            },
            hooks: new() { Random = new Random(5) });

    private static async Task TrackAsync(ClickstreamPipeline pipeline, int count = Events)
    {
        for (var i = 0; i < count; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }
    }

    private static IEnumerable<string> Payloads(int count) => Enumerable.Range(0, count).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)));

    private void AssertEveryEventArrived(ClickstreamStatistics stats)
    {
        WriteFigures(stats);
        Assert.That(Harness.ReceivedPayloads().Distinct(), Is.EquivalentTo(Payloads(Events)), "every QoS1 event arrives");
        Assert.That(stats.EventsDeadLettered, Is.Zero, "nothing is dead-lettered");
        Assert.That(stats.EventsPendingOnDisk, Is.Zero);
    }

    /// <summary>The figures of the case, for the closing note's table (the test's output).</summary>
    private void WriteFigures(ClickstreamStatistics stats) =>
        TestContext.Out.WriteLine(
            $"{TestContext.CurrentContext.Test.Name}: {Harness.ReceivedPayloads().Distinct().Count()} distinct events received, {stats.BatchesSent} requests, " +
            $"failed {stats.BatchesFailed} (transient {stats.BatchesFailedTransient}, configuration {stats.BatchesFailedConfiguration}, rejected {stats.BatchesFailedRejected}), " +
            $"retried {stats.BatchesRetried}, split {stats.BatchesSplit}, dead-lettered {stats.EventsDeadLettered}, pending on disk {stats.EventsPendingOnDisk}, " +
            $"health: {string.Join(", ", _health.Events.GroupBy(e => e.Kind).Select(g => $"{g.Key} {g.Count()}"))}; error/warning logs: {_logs.Entries.Count(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning)}");

    /// <summary>An app's <see cref="DelegatingHandler"/> that throws on its first calls, or hangs ignoring its token, then passes requests on.</summary>
    private sealed class MisbehavingHandler(int throwTimes, int hangTimes) : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly TaskCompletionSource _hanging = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        /// <summary>Completes when a request hangs in the handler.</summary>
        public Task Hanging => _hanging.Task;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            if (call <= throwTimes)
            {
                throw new InvalidOperationException("the app's handler failed");
            }

            if (call <= throwTimes + hangTimes)
            {
                _hanging.TrySetResult();
                return new TaskCompletionSource<HttpResponseMessage>().Task;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
