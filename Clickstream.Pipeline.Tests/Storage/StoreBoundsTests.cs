using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>The store's bounds on real LiteDB files: count, bytes and time to live, oldest first, counted by reason.</summary>
public class StoreBoundsTests : StoreHarnessTestBase
{
    // 100-byte payloads of type "pageview": counted as 100 + 8 + 256 bytes each.
    private const long EventSize = 100 + 8 + StorePolicy.DocumentOverhead;

    [Test]
    public async Task Passing_MaxStoredEvents_evicts_the_oldest_events_on_disk_and_keeps_the_newest()
    {
        // 64 events at most: 32 (half) in memory, eviction down to 62 (1/32 below the bound).
        Harness.Start(Harness.Options() with { MaxStoredEvents = 64 }, Harness.Events(1, 100));
        var inMemory = await Harness.ScheduledAsync(32);
        var statistics = await Harness.WaitAsync(s => s.EventsStored == 100);
        Harness.Stop();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(inMemory.Select(e => e.Id), Is.EqualTo(Range(1, 32)), "the first 32 went to memory");
            Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.EquivalentTo(Range(1, 32).Concat(Range(71, 100))), "33 to 70 evicted: the oldest on disk; the newest kept");
            Assert.That(statistics.EventsEvictedOverCapacity, Is.EqualTo(38));
            Assert.That(statistics.EventsEvictedExpired, Is.Zero);
            Assert.That(statistics.EventsEvicted, Is.EqualTo(38));
            Assert.That(statistics.EventsPendingOnDisk, Is.EqualTo(62));
            Assert.That(Harness.Messages(40), Has.Count.EqualTo(1), "one log line per eviction run, not per event");
        }
    }

    [Test]
    public async Task Passing_MaxStorageBytes_evicts_the_oldest_events_on_disk_by_their_counted_size()
    {
        // Room for 64 events: 32 in memory (half the bytes), eviction down to 62 events' worth.
        Harness.Start(Harness.Options() with { MaxStorageBytes = 64 * EventSize }, Harness.Events(1, 100));
        var inMemory = await Harness.ScheduledAsync(32);
        var statistics = await Harness.WaitAsync(s => s.EventsStored == 100);
        Harness.Stop();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(inMemory.Select(e => e.Id), Is.EqualTo(Range(1, 32)));
            Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.EquivalentTo(Range(1, 32).Concat(Range(71, 100))));
            Assert.That(statistics.EventsEvictedOverCapacity, Is.EqualTo(38));
            Assert.That(Harness.Messages(40).Single(), Does.Contain("38 QoS1 events evicted").And.Contain("over capacity"));
        }
    }

    [Test]
    public async Task Evictions_over_many_commits_keep_the_store_within_its_bound_and_keep_the_newest()
    {
        Harness.Start(Harness.Options() with { MaxStoredEvents = 64 });
        for (var id = 1L; id <= 300; id += 10)
        {
            await Harness.CommitAsync(Harness.Events(id, id + 9));
            Assert.That(Harness.Counters.Snapshot().EventsPendingOnDisk, Is.LessThanOrEqualTo(64), "the bound holds once TrackAsync completes");
        }

        Harness.Stop();
        var kept = StoreFile.CommittedEventIds(Harness.Folder.StorePath);
        var onDiskOnly = kept.Where(id => id > 32).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(kept.Where(id => id <= 32), Is.EquivalentTo(Range(1, 32)), "events in memory are not evicted");
            Assert.That(onDiskOnly, Is.EquivalentTo(Range(300 - onDiskOnly.Count + 1, 300)), "what is left on disk is the newest, without gaps");
            Assert.That(Harness.Counters.Snapshot().EventsEvictedOverCapacity, Is.EqualTo(300 - kept.Count));
        }
    }

    [Test]
    public async Task Events_older_than_EventTimeToLive_on_disk_are_evicted_when_the_clock_passes_it()
    {
        // 10 events in memory at most; the time to live is checked every 1/16 of it.
        Harness.Start(
            Harness.Options() with { MemoryBudget = 10, EventTimeToLive = TimeSpan.FromHours(1) },
            Harness.Events(1, 30));
        await Harness.WaitAsync(s => s.EventsStored == 30);
        Harness.Time.Advance(TimeSpan.FromMinutes(30));
        await Harness.CommitAsync(Harness.Events(31, 40));

        Harness.Time.Advance(TimeSpan.FromMinutes(31));
        var statistics = await Harness.WaitAsync(s => s.EventsEvictedExpired > 0);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.EventsEvictedExpired, Is.EqualTo(20), "11 to 30 are 61 minutes old; 31 to 40 only 31");
            Assert.That(statistics.EventsEvictedOverCapacity, Is.Zero);
            Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.EquivalentTo(Range(1, 10).Concat(Range(31, 40))), "1 to 10 are in memory, the next to be sent");
        }

        Harness.Time.Advance(TimeSpan.FromMinutes(30));
        statistics = await Harness.WaitAsync(s => s.EventsEvictedExpired == 30);
        Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.EquivalentTo(Range(1, 10)));
        Assert.That(statistics.EventsPendingOnDisk, Is.EqualTo(10));
    }

    [Test]
    public async Task Evicted_events_complete_their_delivery_epoch_and_acknowledged_ones_theirs()
    {
        Harness.Start(Harness.Options() with { MaxStoredEvents = 64 }, Harness.Events(1, 100));
        var sealedEpoch = Harness.Epochs.Seal(100);
        var inMemory = await Harness.ScheduledAsync(32);
        await Harness.WaitAsync(s => s.EventsEvictedOverCapacity == 38);
        Assert.That(sealedEpoch.Completion.IsCompleted, Is.False, "62 events are still pending");

        // Acking what is in memory lets the backlog be read back; acking that too leaves nothing pending.
        await Harness.AcknowledgeAsync(inMemory.ToArray());
        var backlog = await Harness.ScheduledAsync(30);
        await Harness.AcknowledgeAsync(backlog.ToArray());

        await sealedEpoch.Completion.WaitAsync(Harness.Guard);
        Assert.That(backlog.Select(e => e.Id), Is.EqualTo(Range(71, 100)));
    }

    [Test]
    public async Task A_store_left_over_its_bounds_is_evicted_at_start_before_anything_is_read_back()
    {
        Harness.Start(Harness.Options() with { MemoryBudget = 10 }, Harness.Events(1, 50));
        await Harness.WaitAsync(s => s.EventsStored == 50);
        Harness.Stop();

        // Reopened with a smaller bound and an expired time to live for the first 20.
        var reopened = new StoreHarness();
        try
        {
            File.Move(Harness.Folder.StorePath, reopened.Folder.StorePath);
            File.Move(StoreDatabase.LogPathOf(Harness.Folder.StorePath), StoreDatabase.LogPathOf(reopened.Folder.StorePath));
            reopened.Time.Advance(TimeSpan.FromDays(2));
            reopened.Start(reopened.Options() with { MemoryBudget = 10, MaxStoredEvents = 20, EventTimeToLive = TimeSpan.FromDays(1) });
            var statistics = await reopened.WaitAsync(s => s.EventsEvicted == 50);
            var sealedEpoch = reopened.Epochs.Seal(reopened.Store.LastId);
            await sealedEpoch.Completion.WaitAsync(reopened.Guard);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(statistics.EventsRecovered, Is.EqualTo(50));
                Assert.That(statistics.EventsEvictedExpired, Is.EqualTo(50), "every event recovered was two days old");
                Assert.That(reopened.ScheduledSoFar(), Is.Empty, "nothing expired was handed to the scheduler");
            }
        }
        finally
        {
            reopened.Dispose();
        }
    }

    [Test]
    public async Task Byte_bound_of_a_recovered_store_evicts_its_oldest_events_before_any_is_read_back()
    {
        Harness.Start(Harness.Options() with { MemoryBudget = 10 }, Harness.Events(1, 100));
        await Harness.WaitAsync(s => s.EventsStored == 100);
        Harness.Stop();

        var reopened = new StoreHarness();
        try
        {
            File.Move(Harness.Folder.StorePath, reopened.Folder.StorePath);
            File.Move(StoreDatabase.LogPathOf(Harness.Folder.StorePath), StoreDatabase.LogPathOf(reopened.Folder.StorePath));
            reopened.Start(reopened.Options() with { MemoryBudget = 10, MaxStorageBytes = 64 * EventSize });
            var statistics = await reopened.WaitAsync(s => s.EventsEvicted > 0);
            var inMemory = await reopened.ScheduledAsync(10);
            reopened.Stop();

            using (Assert.EnterMultipleScope())
            {
                Assert.That(statistics.EventsEvictedOverCapacity, Is.EqualTo(38), "down to 62 events' worth, counted from the segment heads at open");
                Assert.That(inMemory.Select(e => e.Id), Is.EqualTo(Range(39, 48)), "read back after the eviction, oldest first");
                Assert.That(StoreFile.CommittedEventIds(reopened.Folder.StorePath), Is.EquivalentTo(Range(39, 100)));
            }
        }
        finally
        {
            reopened.Dispose();
        }
    }

    private static IEnumerable<long> Range(long from, long to)
    {
        for (var id = from; id <= to; id++)
        {
            yield return id;
        }
    }
}
