using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// Issue 17 on simulated time, against the real collector going down and coming back (<c>Faults.GoDown</c>/<c>ComeBack</c>):
/// probes keep their own short cadence whatever the batches' backoff, the first request after each up-edge goes out
/// within one <see cref="ClickstreamOptions.ProbeInterval"/>, the backlog waiting at the gate goes at once, and while
/// the server is down the request rate is the probe rate. The clock is stepped to each probe the pipeline arms
/// (<c>NextProbeDueTicks</c>), so every step is one the pipeline chose.
/// </summary>
public class RecoveryTests : PipelineTestBase
{
    private const int BatchSize = 10;
    private const int Slots = 4;
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    // Long against the outages below: a batch's backoff would outlast them, so only the gate can bring batches back in time.
    private static readonly TimeSpan RetryBase = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(30);

    private ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null) =>
        Harness.Create(
            o =>
            {
                o.MaxBatchSize = BatchSize;
                o.MaxConcurrentRequests = Slots;
                o.ProbeInterval = ProbeInterval;
                o.RetryBaseDelay = RetryBase;
                o.RetryMaxDelay = RetryMax;
                configure?.Invoke(o);
            },
            hooks: new() { Random = FixedRandom.Ceiling });

    [TestCase(ClickstreamTransport.Http)]
    [TestCase(ClickstreamTransport.WebSocket)]
    public async Task Flapping_server_gets_its_first_request_within_a_probe_interval_of_each_up_edge_and_the_backlog_at_once(ClickstreamTransport transport)
    {
        Harness.Transport = transport;
        var pipeline = Create();
        var tracked = 0;

        // Outages shorter and longer than the batches' backoff (5 s, 10 s, 20 s after three failures).
        int[] outages = [4, 9, 4, 13];
        for (var cycle = 0; cycle < outages.Length; cycle++)
        {
            var outage = TimeSpan.FromSeconds(outages[cycle]);
            // Up: a round is delivered.
            tracked = await TrackAsync(pipeline, 4 * BatchSize, tracked);
            await Harness.WaitAsync(pipeline, s => s.EventsAcknowledged == tracked);

            // Down edge: the next round fails until the server is marked unreachable; the rest waits at the gate.
            Harness.Collector.Faults.GoDown();
            var downAt = Harness.Time.GetUtcNow();
            var before = pipeline.GetStatistics();
            tracked = await TrackAsync(pipeline, 8 * BatchSize, tracked);
            // The gate closes as the third failure's outcome is known, just before that failure is counted: wait for the count too.
            var tripped = await Harness.WaitAsync(pipeline, s => !s.IsReachable && s.EventsStored == tracked && PipelineHarness.NextProbeDue(pipeline) is not null
                && s.BatchesFailed - before.BatchesFailed >= ReachabilityMonitor.FailuresToTrip);
            // The failures that trip the gate, plus at most the requests the other slots had in flight when it closed.
            Assert.That(
                tripped.BatchesFailed - before.BatchesFailed,
                Is.InRange(ReachabilityMonitor.FailuresToTrip, ReachabilityMonitor.FailuresToTrip + Slots - 1),
                $"cycle {cycle}: a few failed requests, then the gate");

            // Down: the clock goes from probe to probe; no batch goes out, and no gap is longer than the interval.
            var last = Harness.Time.GetUtcNow();
            while (PipelineHarness.NextProbeDue(pipeline) is { } due && due < downAt + outage)
            {
                Assert.That(due - last, Is.LessThanOrEqualTo(ProbeInterval), $"cycle {cycle}: probes keep their own cadence, not the batches' backoff");
                await Harness.StepToProbeAsync(pipeline);
                last = due;
            }

            Assert.That(pipeline.GetStatistics().BatchesSent, Is.EqualTo(tripped.BatchesSent), $"cycle {cycle}: while down, only probes");

            // Up edge: the first probe after it answers, and everything waiting goes at once, without the clock moving.
            Harness.Time.Advance(downAt + outage - Harness.Time.GetUtcNow());
            Harness.Collector.Faults.ComeBack();
            var upAt = Harness.Time.GetUtcNow();
            var firstProbe = PipelineHarness.NextProbeDue(pipeline);
            Assert.That(firstProbe, Is.Not.Null);
            Assert.That(firstProbe!.Value - upAt, Is.LessThanOrEqualTo(ProbeInterval), $"cycle {cycle}: the first probe after the up-edge");
            await Harness.StepToProbeAsync(pipeline);
            var back = await Harness.WaitAsync(pipeline, s => s.IsReachable);
            await DeliveredWithoutTheClockAsync(pipeline, tracked, cycle);
            TestContext.Out.WriteLine($"cycle {cycle}: down {outage.TotalSeconds} s, first request {(Harness.Time.GetUtcNow() - upAt).TotalMilliseconds} ms after the up-edge, {back.ReachabilityProbes} probes so far");
        }

        Assert.That(Harness.ReceivedPayloads().Distinct().Count(), Is.EqualTo(tracked));
    }

    [Test]
    public async Task Server_down_for_minutes_sees_the_probe_rate_and_no_batch()
    {
        var pipeline = Create();
        Harness.Collector.Faults.GoDown();
        await TrackAsync(pipeline, 3 * BatchSize, 0);
        var tripped = await Harness.WaitAsync(pipeline, s => !s.IsReachable && PipelineHarness.NextProbeDue(pipeline) is not null);
        var start = Harness.Time.GetUtcNow();
        var minutes = TimeSpan.FromMinutes(3);
        var gaps = new List<TimeSpan>();
        var last = start;
        while (PipelineHarness.NextProbeDue(pipeline) is { } due && due <= start + minutes)
        {
            gaps.Add(due - last);
            last = due;
            await Harness.StepToProbeAsync(pipeline);
        }

        var during = pipeline.GetStatistics();
        var probes = during.ReachabilityProbes - tripped.ReachabilityProbes;
        TestContext.Out.WriteLine($"{probes} probes and {during.BatchesSent - tripped.BatchesSent} requests in {minutes.TotalMinutes} simulated minutes; longest gap {gaps.Max().TotalMilliseconds} ms");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(during.BatchesSent, Is.EqualTo(tripped.BatchesSent), "no batch while the server is down");
            Assert.That(gaps.Max(), Is.LessThanOrEqualTo(ProbeInterval), "no gap longer than the probe interval, however long the outage");
            Assert.That(gaps.Skip(3).Min(), Is.GreaterThanOrEqualTo(ProbeInterval / 2), "once ramped, never faster than twice the probe rate");
            Assert.That(probes, Is.InRange((long)(minutes / ProbeInterval), (long)(minutes / (ProbeInterval / 2)) + 3), "the request rate while down is the probe rate");
        }
    }

    [Test]
    public async Task App_signal_saying_reachable_probes_at_once()
    {
        var signal = new ManualReachability(reachable: true);
        var pipeline = Create(o => o.Reachability = signal);
        Harness.Collector.Faults.GoDown();
        await TrackAsync(pipeline, 3 * BatchSize, 0);
        await Harness.WaitAsync(pipeline, s => !s.IsReachable && PipelineHarness.NextProbeDue(pipeline) is not null);

        // The app loses the network, the server comes back meanwhile, then the app has the network again.
        signal.Set(false);
        Harness.Collector.Faults.ComeBack();
        signal.Set(true);

        Assert.That(PipelineHarness.NextProbeDue(pipeline), Is.Null, "probing at once, not at the next tick");
        await DeliveredWithoutTheClockAsync(pipeline, 3 * BatchSize, cycle: 0);
    }

    /// <summary>
    /// Waits, without moving the clock, until every event tracked is acknowledged. A batch left on its backoff timer would
    /// never go: the guard ends the wait then, and the test fails saying so.
    /// </summary>
    private async Task DeliveredWithoutTheClockAsync(ClickstreamPipeline pipeline, int tracked, int cycle)
    {
        try
        {
            await pipeline.Counters.WaitAsync(s => s.EventsAcknowledged >= tracked, Timeouts.Guard(20));
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"cycle {cycle}: {tracked - pipeline.GetStatistics().EventsAcknowledged} events still wait after the server answered a probe (a batch's backoff kept them)");
        }
    }

    private static async Task<int> TrackAsync(ClickstreamPipeline pipeline, int count, int first)
    {
        for (var i = first; i < first + count; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        return first + count;
    }
}
