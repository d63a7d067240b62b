using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using LiteDB;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>A store file left mostly empty (after an outage is delivered) is rewritten small, on the writer thread.</summary>
public class StoreCompactionTests : StoreHarnessTestBase
{
    [Test]
    public async Task Mostly_empty_file_is_compacted_keeping_what_is_left_and_the_store_goes_on()
    {
        // About 19 MB of events, all in memory, then all but the last 200 acknowledged.
        const int count = 30_000;
        Harness.Start(Harness.Options() with { MemoryBudget = count }, Harness.Events(1, count, size: 300), batchSize: 1000);
        var scheduled = await Harness.ScheduledAsync(count);
        var before = new FileInfo(Harness.Folder.StorePath).Length;
        Assert.That(before, Is.GreaterThan(8L * 1024 * 1024), "big enough to be worth compacting");

        await Harness.AcknowledgeAsync(scheduled[..^200].ToArray());
        var statistics = await Harness.WaitAsync(s => s.StoreCompactions == 1);
        var after = new FileInfo(Harness.Folder.StorePath).Length;
        await TestContext.Out.WriteLineAsync($"compacted {before:N0} -> {after:N0} bytes: {Harness.Messages(43).Single()}");

        // The store goes on: new commits, then the rest acknowledged.
        await Harness.CommitAsync(Harness.Events(count + 1, count + 10));
        var fresh = await Harness.ScheduledAsync(10);
        await Harness.AcknowledgeAsync(scheduled[^200..^100].ToArray());
        Harness.Stop();

        var kept = StoreFile.CommittedEventIds(Harness.Folder.StorePath);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(after, Is.LessThan(before / 10));
            Assert.That(statistics.StoreErrors, Is.Zero);
            Assert.That(fresh.Select(e => e.Id), Is.EqualTo(Enumerable.Range(count + 1, 10).Select(i => (long)i)));
            Assert.That(kept, Is.EquivalentTo(scheduled[^100..].Select(e => e.Id).Concat(fresh.Select(e => e.Id))));
            Assert.That(File.Exists(Harness.Folder.StorePath + ".compact"), Is.False);
            Assert.That(OperatingSystem.IsWindows() || File.GetUnixFileMode(Harness.Folder.StorePath) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the new file is owner-only too");
        }
    }

    [Test]
    public async Task Failed_compaction_is_logged_and_counted_and_the_store_goes_on_with_its_file()
    {
        // The copy cannot be opened (an IO error): the store keeps the file it has and goes on.
        var files = new FaultyFileSystem();
        const int count = 30_000;
        Harness.Start(Harness.Options() with { MemoryBudget = count, FileSystem = files }, Harness.Events(1, count, size: 300), batchSize: 1000);
        var scheduled = await Harness.ScheduledAsync(count);
        var before = new FileInfo(Harness.Folder.StorePath).Length;

        files.OpenFails = true;
        await Harness.AcknowledgeAsync(scheduled[..^200].ToArray());
        var statistics = await Harness.WaitAsync(s => s.StoreErrors > 0 || s.StoreCompactions > 0);
        files.OpenFails = false;

        await Harness.CommitAsync(Harness.Events(count + 1, count + 10));
        var fresh = await Harness.ScheduledAsync(10);
        Harness.Stop();

        var kept = StoreFile.CommittedEventIds(Harness.Folder.StorePath);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.Messages(44), Has.Count.EqualTo(1), "StoreCompactionFailed logged once");
            Assert.That(statistics.StoreErrors, Is.EqualTo(1));
            Assert.That(statistics.StoreCompactions, Is.Zero);
            Assert.That(new FileInfo(Harness.Folder.StorePath).Length, Is.GreaterThanOrEqualTo(before / 2), "the file is kept as it was");
            Assert.That(kept, Is.EquivalentTo(scheduled[^200..].Select(e => e.Id).Concat(fresh.Select(e => e.Id))));
        }
    }

    [Test]
    public async Task Small_or_still_full_files_are_not_compacted()
    {
        Harness.Start(Harness.Options(), Harness.Events(1, 2000, size: 300));
        var scheduled = await Harness.ScheduledAsync(2000);
        await Harness.AcknowledgeAsync(scheduled[..^10].ToArray());
        await Harness.CommitAsync(Harness.Events(2001, 2001));

        Assert.That(Harness.Counters.Snapshot().StoreCompactions, Is.Zero, "a 1 MB file is left alone");
    }

    [Test]
    public void Store_has_no_secondary_index_so_a_compaction_needs_none_dropped()
    {
        Harness.Start(Harness.Options(), Harness.Events(1, 10));
        Harness.WaitAsync(s => s.EventsStored == 10).Wait(Harness.Guard);
        Harness.Stop();

        using var db = new LiteDatabase(new ConnectionString { Filename = Harness.Folder.StorePath, Connection = ConnectionType.Direct });
        var indexes = db.GetCollection("$indexes").FindAll().Select(d => $"{d["collection"].AsString}.{d["name"].AsString}").ToList();
        Assert.That(indexes, Is.SubsetOf(new[] { $"{StoreDatabase.SegmentsCollection}._id", $"{StoreDatabase.PayloadsCollection}._id", $"{StoreDatabase.RequestsCollection}._id", $"{StoreDatabase.DeadLettersCollection}._id" }));
    }
}
