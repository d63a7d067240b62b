using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// Issue 4's outage proof on simulated time: 1,000,000 QoS1 events tracked while the server is down for 10
/// simulated minutes. Managed memory stays bounded, the storage bound holds with every eviction counted, and
/// everything kept arrives once the server is back.
/// </summary>
[Category("Outage")]
public class OutageTests : PipelineTestBase
{
    private const int Events = 1_000_000;
    private const int Producers = 8;
    private const long StoredBound = 50_000;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(12);

    // A hang guard sized for a million events on a busy 2-core machine (45 s on a quiet one): the harness's
    // 60 s guard fired mid-run under load, and every wait in the loops below then completed at once.
    private const int GuardSeconds = 900;

    [Test]
    public async Task Million_events_through_a_ten_minute_outage_keep_memory_and_storage_bounded_and_the_kept_ones_arrive()
    {
        // The messages exist before the measure: what is measured is the pipeline's own memory.
        IMessage[] messages = [SampleEvents.PageView(1), SampleEvents.Click(2), SampleEvents.AddToCart(3), SampleEvents.Purchase(4)];
        await Harness.StopCollectorAsync();
        var pipeline = Harness.Create(
            o =>
            {
                o.MaxBatchSize = 500;
                o.MaxStoredEvents = StoredBound;
                o.MaxInMemoryStoredEvents = 10_000;
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.RetryMaxDelay = Step;
            },
            hooks: new() { Random = new Random(5) });

        var guard = Timeouts.Guard(GuardSeconds);
        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        var outageEnds = Harness.Time.GetUtcNow() + TimeSpan.FromMinutes(10);
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var i = p; i < Events; i += Producers)
            {
                await pipeline.TrackAsync(messages[i & 3]);
            }
        })).ToArray();

        // Simulated time runs while the events come in: batches fail, the server is held unreachable and
        // probed; the clock stops at the end of the outage.
        // One step per 20,000 events stored: 50 steps of 12 s, the 10 minutes of the outage.
        while (!Task.WhenAll(producers).IsCompleted)
        {
            var target = Math.Min(pipeline.GetStatistics().EventsStored + 20_000, Events);
            await Task.WhenAny(Task.WhenAll(producers), pipeline.Counters.WaitAsync(s => s.EventsStored >= target, guard));
            StopIfHung(guard);
            peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false) - baseline);
            if (Harness.Time.GetUtcNow() + Step <= outageEnds)
            {
                Harness.Time.Advance(Step);
            }
        }

        await Task.WhenAll(producers);
        var during = await pipeline.Counters.WaitAsync(s => s.EventsStored == Events, guard);
        GC.Collect();
        var settled = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        TestContext.Out.WriteLine($"tracked {Events:N0}; stored {during.EventsStored:N0}; evicted {during.EventsEvicted:N0}; on disk {during.EventsPendingOnDisk:N0}; requests {during.BatchesSent}; probes {during.ReachabilityProbes}; managed memory peak +{peak / 1_048_576.0:F1} MiB, settled +{settled / 1_048_576.0:F1} MiB");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(during.IsReachable, Is.False, "held unreachable during the outage");
            Assert.That(during.BatchesSent, Is.LessThanOrEqualTo(10), "no hot loop: a few requests, then probes only");
            Assert.That(during.ReachabilityProbes, Is.GreaterThan(0));
            Assert.That(during.EventsPendingOnDisk, Is.LessThanOrEqualTo(StoredBound), "the storage bound holds");
            Assert.That(during.EventsEvicted, Is.EqualTo(Events - during.EventsPendingOnDisk), "every event not kept was evicted and counted");
            Assert.That(during.EventsEvictedOverCapacity, Is.EqualTo(during.EventsEvicted));
            Assert.That(settled, Is.LessThan(200L * 1_048_576), "managed memory stays bounded, far below 1M events' worth");
        }

        // The server is back: everything kept arrives.
        await Harness.StartCollectorAgainAsync();
        var flush = pipeline.FlushAsync(guard);
        while (!flush.IsCompleted)
        {
            var before = pipeline.GetStatistics();
            Harness.Time.Advance(Step);
            await Task.WhenAny(flush, pipeline.Counters.WaitAsync(s =>
                s.BatchesAcknowledged > before.BatchesAcknowledged || s.BatchesFailed > before.BatchesFailed || s.ReachabilityProbes > before.ReachabilityProbes, guard));
            StopIfHung(guard);
        }

        await flush;
        var after = pipeline.GetStatistics();
        Assert.That(Harness.Collector.Stats.Events, Is.GreaterThanOrEqualTo(during.EventsPendingOnDisk));
        Assert.That(after.EventsPendingOnDisk, Is.Zero);
        Assert.That(after.EventsAcknowledged, Is.EqualTo(Events - during.EventsEvicted));
    }

    // Once the guard has fired every wait returns at once: stop instead of spinning (the loop would otherwise
    // allocate waiters until the process runs out of memory, as it did under load).
    private static void StopIfHung(CancellationToken guard)
    {
        if (guard.IsCancellationRequested)
        {
            Assert.Fail($"hang guard of {GuardSeconds} s expired before the million events were through");
        }
    }
}
