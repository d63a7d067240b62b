using System.Text.RegularExpressions;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>A store file that cannot be read at start: moved aside, a new one started, the app kept running.</summary>
public partial class StoreRecoveryTests : PipelineTestBase
{
    public enum Damage
    {
        /// <summary>Every byte of the file, header included.</summary>
        WholeFile,

        /// <summary>Everything after the header page: the collections' pages.</summary>
        AfterHeader,
    }

    [TestCase(Damage.WholeFile)]
    [TestCase(Damage.AfterHeader)]
    public async Task Corrupt_store_is_moved_aside_with_its_log_and_a_new_store_delivers(Damage damage)
    {
        // A real store with events in both files: the data file (checkpointed at dispose) and a log.
        var first = Harness.Create();
        first.Pause();
        for (var i = 0; i < 5; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        await first.DisposeAsync();
        var path = Harness.Folder.StorePath;
        var logPath = StoreDatabase.LogPathOf(path);
        await File.WriteAllBytesAsync(logPath, [1, 2, 3]);
        var garbage = Garbage(await File.ReadAllBytesAsync(path), damage);
        await File.WriteAllBytesAsync(path, garbage);

        var second = Harness.Create();
        var statistics = second.GetStatistics();
        var moved = Directory.GetFiles(Harness.Folder.Path, "events.db.corrupt-*");
        var movedLogs = Directory.GetFiles(Harness.Folder.Path, "events-log.db.corrupt-*");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.StoreFilesMovedAside, Is.EqualTo(1));
            Assert.That(statistics.EventsRecovered, Is.Zero);
            Assert.That(moved, Has.Length.EqualTo(1));
            Assert.That(Path.GetFileName(moved[0]), Does.Match(TimestampSuffix()), "named with a UTC timestamp");
            // Kept for whoever wants to look; LiteDB may have flagged its header invalid when it gave up on it.
            Assert.That((await File.ReadAllBytesAsync(moved[0]))[8192..], Is.EqualTo(garbage[8192..]), "kept as it was");
            Assert.That(movedLogs.Select(Path.GetFileName), Is.EqualTo(new[] { "events-log.db" + Path.GetFileName(moved[0])["events.db".Length..] }));
        }

        await second.TrackAsync(SampleEvents.PageView(10));
        await second.TrackAsync(SampleEvents.PageView(11));
        await second.FlushAsync(Harness.Guard);
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(new[] { PipelineHarness.Payload(SampleEvents.PageView(10)), PipelineHarness.Payload(SampleEvents.PageView(11)) }));
    }

    [Test]
    public async Task Store_that_cannot_be_opened_for_an_IO_error_throws_ClickstreamStorageException_and_is_not_moved()
    {
        var first = Harness.Create();
        first.Pause();
        await first.TrackAsync(SampleEvents.PageView(1));
        await first.DisposeAsync();

        var files = new FaultyFileSystem { OpenFails = true };
        var ex = Assert.Throws<ClickstreamStorageException>(() => Harness.Create(hooks: new() { FileSystem = files }));
        Assert.That(ex!.Message, Does.Contain(Harness.Folder.StorePath).And.Contain("StoragePath"));
        Assert.That(Directory.GetFiles(Harness.Folder.Path, "*.corrupt-*"), Is.Empty, "an IO error is not a corrupt file");

        var third = Harness.Create();
        Assert.That(third.GetStatistics().EventsRecovered, Is.EqualTo(1));
    }

    [Test]
    public void StoragePath_that_is_a_folder_throws_ClickstreamStorageException_naming_it()
    {
        var ex = Assert.Throws<ClickstreamStorageException>(() => Harness.Create(o => o.StoragePath = Harness.Folder.Path));
        Assert.That(ex!.Message, Does.Contain("StoragePath"));
        Assert.That(Directory.Exists(Harness.Folder.Path), Is.True);
    }

    private static byte[] Garbage(byte[] file, Damage damage)
    {
        var random = new Random(42);
        var garbage = (byte[])file.Clone();
        var from = damage == Damage.WholeFile ? 0 : 8192;
        Assert.That(file, Has.Length.GreaterThan(from), "the file has pages to damage");
        random.NextBytes(garbage.AsSpan(from));
        return garbage;
    }

    [GeneratedRegex(@"^events\.db\.corrupt-\d{8}T\d{9}Z$")]
    private static partial Regex TimestampSuffix();
}
