using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using LiteDB;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// A damaged store is salvaged, not thrown away: what can still be read from it is carried into the new store.
/// The damage is the one a power cut left before the store synced its data file (issue 16): the data file as it
/// was before a checkpoint, under a log written after it, which LiteDB replays over pages that are not there.
/// </summary>
public class StoreSalvageTests : PipelineTestBase
{
    [Test]
    public async Task Store_damaged_by_a_power_cut_is_replaced_in_use_and_its_readable_events_are_carried_over_and_sent()
    {
        var (checkpointed, logged) = await DamageAsync(checkpointedEvents: 40, loggedEvents: 30);

        // The heads are readable, so the store opens; the first payload read (the backlog) meets LiteDB's assertion
        // "Page type must be data page": the damaged file is recognised, moved aside and salvaged in use.
        using var logs = new RecordingLoggerFactory();
        var reopened = Harness.Create(o => o.LoggerFactory = logs);
        var after = await TrackAsync(reopened, 1000, 10);
        await reopened.FlushAsync(Harness.Guard);

        var statistics = reopened.GetStatistics();
        var received = Harness.ReceivedPayloads();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.StoreFilesMovedAside, Is.EqualTo(1));
            Assert.That(statistics.EventsSalvaged + statistics.EventsUnreadable, Is.EqualTo(checkpointed.Count + logged.Count), "every event the heads count is salvaged or counted unreadable");
            Assert.That(statistics.EventsSalvaged, Is.GreaterThanOrEqualTo(logged.Count), "the events whose pages are in the log are readable");
            Assert.That(received, Is.SupersetOf(logged), "the events committed after the checkpoint");
            Assert.That(received, Is.SupersetOf(after), "the events tracked after the damage");
            Assert.That(received, Is.SubsetOf(checkpointed.Concat(logged).Concat(after)), "nothing read wrong");
            Assert.That(received.Count - after.Count, Is.EqualTo(statistics.EventsSalvaged), "every salvaged event sent once");
            Assert.That(statistics.EventsPendingOnDisk, Is.Zero);
            Assert.That(logs.Count(81), Is.EqualTo(1), "the damage found in use is logged");
            Assert.That(logs.Entries.Single(e => e.EventId == 80).Message, Does.Contain($"{statistics.EventsSalvaged} QoS1 events were carried"));
        }
    }

    [Test]
    public async Task Salvage_interrupted_by_a_power_cut_is_done_again_at_the_next_open()
    {
        var (checkpointed, logged) = await DamageAsync(checkpointedEvents: 40, loggedEvents: 30);

        // What a cut between moving the damaged file aside and syncing the salvaged events leaves: the file under
        // its unsalvaged name, and no store (the new one's unsynced creation undone).
        var path = Harness.Folder.StorePath;
        var logPath = StoreDatabase.LogPathOf(path);
        const string Suffix = ".corrupt-20261204T000000000Z";
        File.Move(path, path + Suffix + StoreDatabase.UnsalvagedSuffix);
        File.Move(logPath, logPath + Suffix + StoreDatabase.UnsalvagedSuffix);

        var reopened = Harness.Create();
        await reopened.FlushAsync(Harness.Guard);

        var statistics = reopened.GetStatistics();
        var received = Harness.ReceivedPayloads();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.EventsSalvaged, Is.GreaterThanOrEqualTo(logged.Count), "the file's readable events are carried over at open");
            Assert.That(received, Is.SupersetOf(logged));
            Assert.That(received, Is.SubsetOf(checkpointed.Concat(logged)), "nothing read wrong");
            Assert.That(File.Exists(path + Suffix), Is.True, "the mark is dropped once the salvage is synced");
            Assert.That(File.Exists(logPath + Suffix), Is.True);
            Assert.That(Directory.GetFiles(Harness.Folder.Path, "*" + StoreDatabase.UnsalvagedSuffix), Is.Empty);
        }
    }

    [Test]
    public async Task Store_of_a_later_format_is_moved_aside_and_nothing_is_carried_over()
    {
        var first = Harness.Create();
        first.Pause();
        await TrackAsync(first, 0, 5);
        await first.DisposeAsync();
        using (var db = new LiteDatabase(new ConnectionString { Filename = Harness.Folder.StorePath }))
        {
            db.UserVersion = SegmentLayout.FormatVersion + 1;
        }

        var second = Harness.Create();
        var statistics = second.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.StoreFilesMovedAside, Is.EqualTo(1));
            Assert.That(statistics.EventsSalvaged, Is.Zero, "a later version's layout is not ours to read");
            Assert.That(statistics.EventsRecovered, Is.Zero);
        }
    }

    /// <summary>
    /// Leaves the store damaged as a power cut did before the fix: <paramref name="checkpointedEvents"/> events
    /// committed and checkpointed into the data file, whose copy on the device is the one from before that
    /// checkpoint, and <paramref name="loggedEvents"/> more committed after it, in the log (synced).
    /// </summary>
    private async Task<(List<string> Checkpointed, List<string> Logged)> DamageAsync(int checkpointedEvents, int loggedEvents)
    {
        var path = Harness.Folder.StorePath;
        var logPath = StoreDatabase.LogPathOf(path);
        var first = Harness.Create();
        first.Pause();
        var checkpointed = await TrackAsync(first, 0, checkpointedEvents);
        var dataBeforeCheckpoint = await File.ReadAllBytesAsync(path);
        await first.DisposeAsync();

        var second = Harness.Create();
        second.Pause();
        var logged = await TrackAsync(second, checkpointedEvents, loggedEvents);
        var logAfterCheckpoint = await File.ReadAllBytesAsync(logPath);
        await second.DisposeAsync();

        await File.WriteAllBytesAsync(path, dataBeforeCheckpoint);
        await File.WriteAllBytesAsync(logPath, logAfterCheckpoint);
        return (checkpointed, logged);
    }

    private static async Task<List<string>> TrackAsync(ClickstreamPipeline pipeline, int from, int count)
    {
        var payloads = new List<string>(count);
        for (var i = from; i < from + count; i++)
        {
            var e = SampleEvents.PageView(i);
            await pipeline.TrackAsync(e);
            payloads.Add(PipelineHarness.Payload(e));
        }

        return payloads;
    }
}
