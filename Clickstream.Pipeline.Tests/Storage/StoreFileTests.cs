using System.Runtime.Versioning;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>How the store's files are made: flushed to the device when asked, readable by their owner only.</summary>
public class StoreFileTests : PipelineTestBase
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Test]
    public async Task FlushCommitsToDisk_flushes_the_log_to_the_device_once_per_group_commit_before_TrackAsync_completes()
    {
        var files = new FaultyFileSystem();
        var pipeline = Harness.Create(o => o.FlushCommitsToDisk = true, hooks: new() { FileSystem = files });
        for (var i = 0; i < 10; i++)
        {
            var before = files.LogFlushes;
            await pipeline.TrackAsync(SampleEvents.PageView(i));
            Assert.That(files.LogFlushes, Is.GreaterThan(before), "flushed before TrackAsync completed");
        }

        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(files.LogFlushes, Is.EqualTo(pipeline.GetStatistics().StoreCommits));
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(10));
    }

    [Test]
    public async Task Without_FlushCommitsToDisk_the_log_is_never_flushed_to_the_device()
    {
        var files = new FaultyFileSystem();
        var pipeline = Harness.Create(hooks: new() { FileSystem = files });
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(pipeline.GetStatistics().StoreCommits, Is.EqualTo(10));
        Assert.That(files.LogFlushes, Is.Zero);

        // LiteDB flushes the data file only where it needs the device: its first page, and checkpoints.
        Assert.That(files.DataFlushes, Is.EqualTo(1), "the new file's first page; no checkpoint yet");
    }

    [Test]
    public async Task FlushCommitsToDisk_on_real_files_commits_and_delivers()
    {
        var pipeline = Harness.Create(o => o.FlushCommitsToDisk = true);
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(5));
    }

    [Test]
    [Platform(Exclude = "Win", Reason = "Unix file modes")]
    [UnsupportedOSPlatform("windows")]
    public async Task Store_files_and_their_new_folder_are_created_for_the_owner_only()
    {
        var folder = Path.Combine(Harness.Folder.Path, "new");
        var path = Path.Combine(folder, "events.db");
        var pipeline = Harness.Create(o => o.StoragePath = path);
        await pipeline.TrackAsync(SampleEvents.PageView(1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(File.GetUnixFileMode(path), Is.EqualTo(OwnerReadWrite));
            Assert.That(File.GetUnixFileMode(StoreDatabase.LogPathOf(path)), Is.EqualTo(OwnerReadWrite));
            Assert.That(File.GetUnixFileMode(folder), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        }
    }

    [Test]
    [Platform(Exclude = "Win", Reason = "Unix file modes")]
    [UnsupportedOSPlatform("windows")]
    public async Task Store_files_readable_by_others_are_restricted_to_the_owner_at_open()
    {
        var first = Harness.Create();
        await first.TrackAsync(SampleEvents.PageView(1));
        await first.DisposeAsync();
        var path = Harness.Folder.StorePath;
        var logPath = StoreDatabase.LogPathOf(path);
        var readableByAll = OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(path, readableByAll);
        File.SetUnixFileMode(logPath, readableByAll);

        Harness.Create();
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(OwnerReadWrite));
        Assert.That(File.GetUnixFileMode(logPath), Is.EqualTo(OwnerReadWrite));
    }
}
