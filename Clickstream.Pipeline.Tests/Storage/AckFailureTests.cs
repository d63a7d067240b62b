using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// Acks whose transaction fails, or whose commit succeeds and the checkpoint after it fails, on a real file under
/// streams that fail on cue: the store's memory budget stays whole (a backlog bigger than it drains to the last
/// event) and the events' delivery epoch completes exactly when the last of them is acknowledged.
/// </summary>
public class AckFailureTests
{
    private const int Events = 50;
    private const int Budget = 10;

    [Test]
    public async Task Ack_whose_transaction_failed_leaves_the_budget_whole_and_the_flush_completes_at_the_last_ack()
    {
        var files = new FaultyFileSystem();
        using var store = new StoreHarness();
        store.Start(store.Options() with { FileSystem = files, MemoryBudget = Budget }, store.Events(1, Events), batchSize: Budget);
        var flush = store.Epochs.Seal(Events).Completion;

        var first = (await store.ScheduledAsync(Budget)).ToArray();
        var requestGuid = Guid.NewGuid();
        await store.Store.BeginRequestAsync(requestGuid, first).WaitAsync(store.Guard);
        files.DiskFull = true;
        Assert.That(async () => await store.Store.AcknowledgeAsync(requestGuid, first).WaitAsync(store.Guard), Throws.InstanceOf<IOException>().Or.InstanceOf<LiteDB.LiteException>());
        files.DiskFull = false;

        var (acknowledged, statistics) = await DeliveredThenDrainedAsync(store, first, flush);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.EqualTo(Events - Budget), "the backlog is read back to its last event");
            Assert.That(statistics.StoreErrors, Is.GreaterThanOrEqualTo(1));
            Assert.That(StoreFile.CommittedEventIds(store.Folder.StorePath), Is.Empty, "the failed ack is applied with a later transaction");
        }
    }

    [Test]
    public async Task Ack_committed_whose_checkpoint_failed_is_committed_and_the_flush_completes_at_the_last_ack()
    {
        var files = new FaultyFileSystem();
        using var store = new StoreHarness();

        // A checkpoint after every commit: the one after the ack's commit is the one that fails.
        store.Start(store.Options() with { FileSystem = files, MemoryBudget = Budget, CheckpointLogBytes = 0 }, store.Events(1, Events), batchSize: Budget);
        var flush = store.Epochs.Seal(Events).Completion;

        var first = (await store.ScheduledAsync(Budget)).ToArray();
        var requestGuid = Guid.NewGuid();
        await store.Store.BeginRequestAsync(requestGuid, first).WaitAsync(store.Guard);
        files.DataWritesFail = true;
        var ack = store.Store.AcknowledgeAsync(requestGuid, first);
        await store.WaitAsync(s => s.StoreErrors >= 1);
        files.DataWritesFail = false;
        Assert.That(async () => await ack.WaitAsync(store.Guard), Throws.Nothing, "the ack's transaction is committed: only the checkpoint after it failed");
        var (acknowledged, statistics) = await DeliveredThenDrainedAsync(store, first, flush);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.EqualTo(Events - Budget));
            Assert.That(statistics.StoreErrors, Is.EqualTo(1), "the checkpoint, counted once");
            Assert.That(statistics.StoreReopens, Is.GreaterThanOrEqualTo(1));
            Assert.That(StoreFile.CommittedEventIds(store.Folder.StorePath), Is.Empty);
        }
    }

    [Test]
    public async Task Group_commit_whose_checkpoint_failed_completes_its_TrackAsync_and_its_events_are_handed_over_once()
    {
        var files = new FaultyFileSystem();
        using var store = new StoreHarness();
        store.Start(store.Options() with { FileSystem = files, MemoryBudget = Budget, CheckpointLogBytes = 0 }, store.Events(1, Events), batchSize: Budget);

        var first = (await store.ScheduledAsync(Budget)).ToArray();

        // Committed to the log; the checkpoint after it fails. Its events are on disk only, behind the backlog.
        files.DataWritesFail = true;
        Assert.That(async () => await store.CommitAsync(store.Events(Events + 1, Events + 5)), Throws.Nothing, "the commit succeeded: only the checkpoint after it failed");
        files.DataWritesFail = false;
        var flush = store.Epochs.Seal(Events + 5).Completion;
        await store.AcknowledgeAsync(first);

        var acknowledged = await DrainAsync(store, Events + 5 - Budget, flush);
        await flush.WaitAsync(store.Guard);
        var statistics = await store.WaitAsync(s => s.EventsPendingOnDisk == 0);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.EqualTo(Events + 5 - Budget), "each event handed over once, the five included");
            Assert.That(statistics.EventsStoreFailed, Is.Zero);

            // Once per group: the five may be committed in one group or more.
            Assert.That(statistics.StoreErrors, Is.InRange(1, 5), "the checkpoint, counted");
        }
    }

    /// <summary>
    /// Completes the epochs of <paramref name="first"/> as the egress does (the server has them: they count as
    /// delivered), drains the rest of the backlog (<see cref="DrainAsync"/>), waits for the flush and for nothing to be
    /// pending on disk, and stops the store. Returns how many were acknowledged and the statistics then.
    /// </summary>
    private static async Task<(int Acknowledged, ClickstreamStatistics Statistics)> DeliveredThenDrainedAsync(StoreHarness store, EventEnvelope[] first, Task flush)
    {
        DeliveryEpochs.Complete(first);

        var acknowledged = await DrainAsync(store, Events - Budget, flush);
        await flush.WaitAsync(store.Guard);
        var statistics = await store.WaitAsync(s => s.EventsPendingOnDisk == 0);
        store.Stop();
        return (acknowledged, statistics);
    }

    /// <summary>
    /// Acknowledges batches read back from the backlog until <paramref name="count"/> events were; checks the flush
    /// is still waiting before the last ack. Returns how many were acknowledged.
    /// </summary>
    private static async Task<int> DrainAsync(StoreHarness store, int count, Task flush)
    {
        var acknowledged = 0;
        while (acknowledged < count)
        {
            var batch = (await store.ScheduledAsync(1)).ToArray();
            Assert.That(flush.IsCompleted, Is.False, $"the flush waits for the {count - acknowledged} events not acknowledged yet");
            await store.AcknowledgeAsync(batch);
            acknowledged += batch.Length;
        }

        return acknowledged;
    }
}
