using System.Security.Cryptography;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using LiteDB;

namespace Clickstream.Pipeline.Tests.Cli;

/// <summary>
/// <see cref="StoreInspector"/> on real store files written by the real <see cref="EventStore"/>: 10 events committed,
/// a request in flight naming 3 of them, one dead-lettered.
/// </summary>
public class StoreInspectorTests
{
    private StoreHarness _harness = null!;

    [SetUp]
    public async Task WriteStore()
    {
        _harness = new StoreHarness();
        _harness.Start(_harness.Options());
        var events = _harness.Events(1, 10);
        await _harness.CommitAsync(events);
        _harness.Time.Advance(TimeSpan.FromMinutes(5));
        await _harness.Store.BeginRequestAsync(Guid.NewGuid(), [events[1], events[2], events[3]]).WaitAsync(_harness.Guard);
        await _harness.Store.DeadLetterAsync(events[9], "rejected").WaitAsync(_harness.Guard);
    }

    [TearDown]
    public void DeleteStore() => _harness.Dispose();

    [Test]
    public void Inspect_counts_pending_in_flight_and_dead_lettered_events_and_the_oldest_event()
    {
        _harness.Stop();

        var snapshot = StoreInspector.Inspect(_harness.Folder.StorePath);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(snapshot.EventsPending, Is.EqualTo(9), "10 committed, 1 dead-lettered");
            Assert.That(snapshot.Requests, Is.EqualTo(1));
            Assert.That(snapshot.EventsInFlight, Is.EqualTo(3));
            Assert.That(snapshot.DeadLetters, Is.EqualTo(1));
            Assert.That(snapshot.OldestEvent, Is.EqualTo(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero)), "event 1's timestamp, on the fake clock");
            Assert.That(snapshot.FileBytes, Is.EqualTo(new FileInfo(_harness.Folder.StorePath).Length).And.Positive);
        }
    }

    [Test]
    public void Inspect_leaves_the_file_and_its_log_unchanged()
    {
        _harness.Stop();
        var log = StoreDatabase.LogPathOf(_harness.Folder.StorePath);
        var before = Hashes(_harness.Folder.StorePath, log);

        StoreInspector.Inspect(_harness.Folder.StorePath);

        Assert.That(Hashes(_harness.Folder.StorePath, log), Is.EqualTo(before));
    }

    [Test]
    public void Inspect_reads_a_store_a_pipeline_holds_open_as_a_snapshot_of_its_commits()
    {
        var snapshot = StoreInspector.Inspect(_harness.Folder.StorePath);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(snapshot.EventsPending, Is.EqualTo(9));
            Assert.That(snapshot.DeadLetters, Is.EqualTo(1));
        }
    }

    [Test]
    public void Inspect_of_a_missing_file_throws_FileNotFoundException()
    {
        Assert.Throws<FileNotFoundException>(() => StoreInspector.Inspect(Path.Combine(_harness.Folder.Path, "nothing.db")));
    }

    [Test]
    public void Inspect_of_a_damaged_file_throws_InvalidDataException_naming_it()
    {
        _harness.Stop();
        var garbage = File.ReadAllBytes(_harness.Folder.StorePath);
        new Random(42).NextBytes(garbage);
        File.WriteAllBytes(_harness.Folder.StorePath, garbage);

        var ex = Assert.Throws<InvalidDataException>(() => StoreInspector.Inspect(_harness.Folder.StorePath));
        Assert.That(ex!.Message, Does.Contain(_harness.Folder.StorePath));
    }

    [Test]
    public void Inspect_of_another_applications_LiteDB_file_throws_InvalidDataException()
    {
        var other = Path.Combine(_harness.Folder.Path, "other.db");
        using (var db = new LiteDatabase(new ConnectionString { Filename = other, Connection = ConnectionType.Direct }))
        {
            db.GetCollection("customers").Insert(new BsonDocument { ["name"] = "x" });
        }

        var ex = Assert.Throws<InvalidDataException>(() => StoreInspector.Inspect(other));
        Assert.That(ex!.Message, Does.Contain("customers"));
    }

    [Test]
    public void Inspect_of_an_empty_file_throws_InvalidDataException()
    {
        var empty = Path.Combine(_harness.Folder.Path, "empty.db");
        File.WriteAllBytes(empty, []);

        Assert.Throws<InvalidDataException>(() => StoreInspector.Inspect(empty));
    }

    private static string[] Hashes(params string[] paths) =>
        Array.ConvertAll(paths, p => File.Exists(p) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "none");
}
