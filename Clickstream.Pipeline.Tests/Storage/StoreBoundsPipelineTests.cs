using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>The store's bounds seen from the app, against a real collector: what is evicted is failed for good, and a flush does not wait for it.</summary>
public class StoreBoundsPipelineTests : PipelineTestBase
{
    [Test]
    public async Task FlushAsync_completes_with_evicted_events_and_the_collector_gets_exactly_the_kept_ones()
    {
        var pipeline = Harness.Create(o =>
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

        var stored = pipeline.GetStatistics();
        Assert.That(stored.EventsPendingOnDisk, Is.InRange(39, 40));

        pipeline.Resume();
        await pipeline.FlushAsync(Harness.Guard);

        var statistics = pipeline.GetStatistics();
        var kept = (int)stored.EventsPendingOnDisk;
        var expected = Enumerable.Range(0, 10).Concat(Enumerable.Range(100 - (kept - 10), kept - 10));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.EventsEvictedOverCapacity, Is.EqualTo(100 - kept));
            Assert.That(statistics.EventsPendingOnDisk, Is.Zero);
            Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(expected.Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))), "the 10 in memory, then the newest");
        }
    }

    [Test]
    public async Task Events_past_their_time_to_live_at_start_are_evicted_and_a_flush_does_not_wait_for_them()
    {
        var first = Harness.Create(o => o.EventTimeToLive = TimeSpan.FromHours(1));
        first.Pause();
        for (var i = 0; i < 20; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        await first.DisposeAsync();
        Harness.Time.Advance(TimeSpan.FromHours(2));

        var second = Harness.Create(o => o.EventTimeToLive = TimeSpan.FromHours(1));
        await second.TrackAsync(SampleEvents.PageView(100));
        await second.FlushAsync(Harness.Guard);

        var statistics = second.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.EventsRecovered, Is.EqualTo(20));
            Assert.That(statistics.EventsEvictedExpired, Is.EqualTo(20));
            Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(new[] { PipelineHarness.Payload(SampleEvents.PageView(100)) }));
        }
    }
}
