using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class ReachabilityTests : PipelineTestBase
{
    private static async Task TrackAsync(ClickstreamPipeline pipeline, int count, int first = 0)
    {
        for (var i = first; i < first + count; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }
    }

    [Test]
    public async Task Server_down_is_held_unreachable_after_failures_in_a_row_and_only_probed_until_it_is_back()
    {
        var pipeline = Harness.CreateRetrying();
        await Harness.StopCollectorAsync();
        await TrackAsync(pipeline, 5);

        // Connection refused three times in a row (the retries after 1 s and 2 s): the third trips the gate.
        for (var failures = 1; failures <= 3; failures++)
        {
            await Harness.WaitAsync(pipeline, s => s.BatchesFailed == failures);
            Harness.Time.Advance(PipelineHarness.RetryMax);
        }

        var tripped = await Harness.WaitAsync(pipeline, s => !s.IsReachable);
        Assert.That(tripped.UnreachablePeriods, Is.EqualTo(1));

        // A long outage with events still tracked: no batch goes out, only probes, and QoS1 keeps committing.
        await TrackAsync(pipeline, 50, first: 5);
        var probesBefore = pipeline.GetStatistics().ReachabilityProbes;
        for (var i = 0; i < 10; i++)
        {
            var probes = pipeline.GetStatistics().ReachabilityProbes;
            Harness.Time.Advance(PipelineHarness.RetryMax);
            await Harness.WaitAsync(pipeline, s => s.ReachabilityProbes > probes);
        }

        var during = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(during.BatchesSent, Is.EqualTo(3), "the request rate during the outage is the probe rate");
            Assert.That(during.ReachabilityProbes - probesBefore, Is.EqualTo(10), "one probe per backoff period");
            Assert.That(during.EventsStored, Is.EqualTo(55));
            Assert.That(during.IsReachable, Is.False);
        }

        await Harness.StartCollectorAgainAsync();
        Harness.Time.Advance(PipelineHarness.RetryMax);
        await Harness.WaitAsync(pipeline, s => s.IsReachable);
        var flush = pipeline.FlushAsync(Harness.Guard);
        while (!flush.IsCompleted)
        {
            // The first batch's own retry timer may still be pending.
            var before = pipeline.GetStatistics();
            Harness.Time.Advance(PipelineHarness.RetryMax);
            await Task.WhenAny(flush, Harness.WaitAsync(pipeline, s => s.BatchesAcknowledged > before.BatchesAcknowledged || s.BatchesFailed > before.BatchesFailed));
        }

        await flush;
        Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 55).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
    }

    [Test]
    public async Task Server_errors_do_not_mark_it_unreachable()
    {
        Harness.Collector.Faults.AlwaysFail(500);
        var pipeline = Harness.CreateRetrying();
        await TrackAsync(pipeline, 5);
        for (var failures = 1; failures <= 4; failures++)
        {
            await Harness.WaitAsync(pipeline, s => s.BatchesFailed == failures);
            Harness.Time.Advance(PipelineHarness.RetryMax);
        }

        Assert.That(pipeline.GetStatistics().IsReachable, Is.True, "a 500 is an answer: the server is up");
    }

    [Test]
    public async Task App_reachability_signal_holds_batches_until_it_says_reachable()
    {
        var signal = new ManualReachability(reachable: false);
        var pipeline = Harness.CreateRetrying(o => o.Reachability = signal);
        await TrackAsync(pipeline, 10);
        await Harness.WaitAsync(pipeline, s => s.EventsStored == 10);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(pipeline.HeldEvents, Is.EqualTo(10));
            Assert.That(pipeline.GetStatistics().BatchesSent, Is.Zero);
            Assert.That(pipeline.GetStatistics().IsReachable, Is.False);
        }

        signal.Set(true);
        await Harness.Collector.WaitForEventsAsync(10, Harness.Guard);
        Assert.That(pipeline.GetStatistics().IsReachable, Is.True);
    }

    [Test]
    public async Task Pause_shows_in_the_statistics()
    {
        var pipeline = Harness.CreateRetrying();
        pipeline.Pause();
        Assert.That(pipeline.GetStatistics().IsReachable, Is.False);
        pipeline.Resume();
        Assert.That(pipeline.GetStatistics().IsReachable, Is.True);
        await Task.CompletedTask;
    }
}
