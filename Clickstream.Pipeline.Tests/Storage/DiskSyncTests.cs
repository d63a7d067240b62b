using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// Without <see cref="ClickstreamOptions.FlushCommitsToDisk"/>, a commit reaches the device within
/// <see cref="ClickstreamOptions.DiskSyncInterval"/>: a power cut loses at most the last interval's events, not
/// everything since the last checkpoint. The log's syncs are counted on the real files (a stream over each).
/// </summary>
public class DiskSyncTests : PipelineTestBase
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Test]
    public async Task Commits_without_FlushCommitsToDisk_are_synced_once_per_DiskSyncInterval_and_only_when_there_are_any()
    {
        var files = new SyncCountingFileSystem();
        var pipeline = Harness.Create(o => o.DiskSyncInterval = Interval, hooks: new() { FileSystem = files });
        pipeline.Pause();
        await TrackAsync(pipeline, 0, 20);
        var before = files.LogSyncs;

        Harness.Time.Advance(Interval);
        await Harness.WaitAsync(pipeline, s => s.StoreLogSyncs == 1);
        var afterFirst = files.LogSyncs;

        // An interval with nothing committed syncs nothing; the next commit is synced by the interval after it.
        Harness.Time.Advance(Interval);
        await TrackAsync(pipeline, 20, 1);
        var idle = pipeline.GetStatistics().StoreLogSyncs;
        Harness.Time.Advance(Interval);
        await Harness.WaitAsync(pipeline, s => s.StoreLogSyncs == 2);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before, Is.Zero, "20 commits, none synced before the interval (no checkpoint yet)");
            Assert.That(afterFirst, Is.EqualTo(1), "one fsync of the log for the interval's 20 commits");
            Assert.That(idle, Is.EqualTo(1), "no sync for an interval without commits");
            Assert.That(files.LogSyncs, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task FlushCommitsToDisk_syncs_every_commit_and_needs_no_interval()
    {
        var files = new SyncCountingFileSystem();
        var pipeline = Harness.Create(o => o.FlushCommitsToDisk = true, hooks: new() { FileSystem = files });
        pipeline.Pause();
        for (var i = 0; i < 5; i++)
        {
            await TrackAsync(pipeline, i, 1);
            Assert.That(files.LogSyncs, Is.EqualTo(i + 1), "synced before TrackAsync completed");
        }

        Harness.Time.Advance(Interval);
        await TrackAsync(pipeline, 5, 1);
        Assert.That(pipeline.GetStatistics().StoreLogSyncs, Is.Zero, "no interval syncs on top of the commits' own");
    }

    private static async Task TrackAsync(ClickstreamPipeline pipeline, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }
    }

    /// <summary>Real files; counts the syncs (<see cref="Stream.Flush()"/> of a store stream) of the log.</summary>
    private sealed class SyncCountingFileSystem : StoreFileSystem
    {
        private int _logSyncs;

        public int LogSyncs => Volatile.Read(ref _logSyncs);

        public override Stream Open(string path)
        {
            var file = base.Open(path);
            return path.EndsWith("-log.db", StringComparison.Ordinal) ? new Counting(file, this) : file;
        }

        private sealed class Counting(Stream inner, SyncCountingFileSystem owner) : DelegatingStoreStream(inner)
        {
            public override void Flush()
            {
                Inner.Flush();
                Interlocked.Increment(ref owner._logSyncs);
            }
        }
    }
}
