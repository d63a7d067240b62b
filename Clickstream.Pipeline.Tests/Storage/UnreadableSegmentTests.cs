using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// A store whose backlog holds a segment that cannot be decoded (garbage written into its payload), against a real
/// collector: the segment is isolated and counted, the backlog and eviction go on past it, and the file opens cleanly after.
/// </summary>
public class UnreadableSegmentTests : PipelineTestBase
{
    private const int Groups = 10;
    private const int GroupSize = 10;
    private const int Total = Groups * GroupSize;

    [Test]
    public async Task Backlog_with_a_corrupt_segment_delivers_every_other_segment_counts_the_bad_one_and_reopens_cleanly()
    {
        await WriteBacklogAsync();
        var lost = StoreFile.CorruptPayload(Harness.Folder.StorePath, index: 2).Select(Convert.ToBase64String).ToHashSet();

        // A small memory budget: the backlog is read back in several passes, the bad segment in the middle of one.
        var second = Harness.Create(o =>
        {
            o.MaxBatchSize = 10;
            o.MaxInMemoryStoredEvents = 10;
        });
        await second.FlushAsync(Harness.Guard);
        var statistics = second.GetStatistics();
        await second.DisposeAsync();

        var expected = AllPayloads().Where(p => !lost.Contains(p));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lost, Is.Not.Empty);
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(expected), "every event of the other segments, once");
            Assert.That(statistics.EventsUnreadable, Is.EqualTo(lost.Count));
            Assert.That(statistics.EventsPendingOnDisk, Is.Zero);
            Assert.That(StoreFile.Documents(Harness.Folder.StorePath, StoreDatabase.PayloadsCollection), Is.Zero);
        }

        var third = Harness.Create();
        await third.TrackAsync(SampleEvents.PageView(1000));
        await third.FlushAsync(Harness.Guard);
        var reopened = third.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reopened.EventsRecovered, Is.Zero);
            Assert.That(reopened.EventsUnreadable, Is.Zero);
            Assert.That(reopened.StoreFilesMovedAside, Is.Zero);
            Assert.That(Harness.ReceivedPayloads()[^1], Is.EqualTo(PipelineHarness.Payload(SampleEvents.PageView(1000))));
        }
    }

    [Test]
    public async Task Eviction_by_a_bound_gets_past_a_corrupt_segment_and_the_newest_events_are_delivered()
    {
        await WriteBacklogAsync();
        var lost = StoreFile.CorruptPayload(Harness.Folder.StorePath, index: 1);

        // Over the bound at start: eviction, oldest first, must cross the bad segment to get back under it.
        var second = Harness.Create(o =>
        {
            o.MaxBatchSize = 10;
            o.MaxInMemoryStoredEvents = 10;
            o.MaxStoredEvents = 60;
        });
        await second.FlushAsync(Harness.Guard);
        var statistics = second.GetStatistics();
        var received = Harness.ReceivedPayloads();
        var newest = AllPayloads().Skip(Total - received.Count);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.EventsUnreadable, Is.EqualTo(lost.Count));
            Assert.That(statistics.EventsEvictedOverCapacity, Is.Positive);
            Assert.That(statistics.EventsEvictedOverCapacity + statistics.EventsUnreadable + received.Count, Is.EqualTo(Total));
            Assert.That(received.Count, Is.InRange(55, 60));
            Assert.That(received, Is.EquivalentTo(newest), "the newest events, each once");
            Assert.That(statistics.EventsPendingOnDisk, Is.Zero);
        }
    }

    /// <summary>A closed store holding <see cref="Total"/> page views in several segments (groups tracked at once).</summary>
    private async Task WriteBacklogAsync()
    {
        var first = Harness.Create();
        first.Pause();
        for (var group = 0; group < Groups; group++)
        {
            await Task.WhenAll(Enumerable.Range(group * GroupSize, GroupSize).Select(i => first.TrackAsync(SampleEvents.PageView(i)).AsTask()));
        }

        await first.DisposeAsync();
    }

    private static IEnumerable<string> AllPayloads() => Enumerable.Range(0, Total).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)));
}
