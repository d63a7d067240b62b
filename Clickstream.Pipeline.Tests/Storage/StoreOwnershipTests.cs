using Clickstream.Collector;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Crash;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// One owner per store: a second pipeline on a store another one holds, in this process or in another process,
/// fails fast naming the path, and the store is free again once its owner is disposed or killed.
/// </summary>
public class StoreOwnershipTests : TempFolderTestBase
{
    [Test]
    public async Task Create_on_a_store_another_pipeline_of_this_process_holds_throws_naming_the_path()
    {
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = true });
        var first = ClickstreamPipeline.Create(Options(collector));
        await first.TrackAsync(Samples.SampleEvents.PageView(1), Timeouts.Guard());

        var ex = Assert.Throws<ClickstreamStorageException>(() => ClickstreamPipeline.Create(Options(collector)));

        await first.DisposeAsync();
        await using var next = ClickstreamPipeline.Create(Options(collector));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex!.Message, Does.Contain(Folder.StorePath).And.Contain("is in use: another pipeline"));
            Assert.That(next.GetStatistics().EventsRecovered + collector.Stats.Events, Is.EqualTo(1), "the event is either delivered or recovered by the next owner");
        }
    }

    [Test]
    public async Task Store_lock_is_held_across_a_compaction_and_a_reopen_after_an_IO_error()
    {
        var files = new FaultyFileSystem();
        using var harness = new StoreHarness();
        harness.Start(harness.Options() with { FileSystem = files, CompactionMinFileBytes = 0 });

        // Everything acknowledged: the file is all free space and is compacted (closed, renamed over, opened).
        await harness.CommitAsync(harness.Events(1, 10));
        await harness.AcknowledgeAsync([.. await harness.ScheduledAsync(10)]);
        await harness.WaitAsync(s => s.StoreCompactions == 1);

        // A failed commit closes the file; the next one opens it again.
        files.DiskFull = true;
        Assert.That(async () => await harness.CommitAsync(harness.Events(11, 11)), Throws.TypeOf<ClickstreamStorageException>());
        files.DiskFull = false;
        await harness.CommitAsync(harness.Events(12, 12));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(harness.Counters.StoreReopens, Is.EqualTo(1));
            Assert.That(
                () => EventStore.Open(harness.Options(), new(), harness.Logs.CreateLogger("second")),
                Throws.TypeOf<ClickstreamStorageException>().With.Message.Contain(harness.Folder.StorePath));
        }
    }

    [Test]
    [Category("Crash")]
    public async Task Create_on_a_store_another_process_holds_fails_and_recovers_its_events_once_it_is_killed()
    {
        const int Tracked = 100;
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = true });

        // The child's events stay in its store: the collector refuses connections while it runs.
        collector.Faults.GoDown();
        ClickstreamStorageException? refused = null;
        string[] arguments =
        [
            $"--{CrashChildCommand.EndpointOption}", collector.EventsEndpoint.ToString(),
            $"--{CrashChildCommand.StoreOption}", Folder.StorePath,
            $"--{CrashChildCommand.FromOption}", "0",
            $"--{CrashChildCommand.CountOption}", Tracked.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];

        var child = await ChildProcess.RunAsync(
            new CrashSettings().ChildAssembly,
            arguments,
            new KillPoint(KillPhase.Tracking, Tracked),
            () =>
            {
                // The child runs and holds the store: every one of its events is committed.
                refused = Assert.Throws<ClickstreamStorageException>(() => ClickstreamPipeline.Create(Options(collector)));
                return Task.CompletedTask;
            },
            Timeouts.Guard(120));

        collector.Faults.ComeBack();
        await using var next = ClickstreamPipeline.Create(Options(collector));
        await next.FlushAsync(Timeouts.Guard());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(child.Killed, Is.True);
            Assert.That(child.Numbers, Has.Count.EqualTo(Tracked));
            Assert.That(refused?.Message, Does.Contain(Folder.StorePath).And.Contain("is in use").And.Contain("another process"));
            Assert.That(next.GetStatistics().EventsRecovered, Is.EqualTo(Tracked), "what the killed child committed");
            Assert.That(collector.Stats.Events, Is.EqualTo(Tracked));
        }
    }

    private ClickstreamOptions Options(RaccoonCollector collector) => new()
    {
        Endpoint = collector.EventsEndpoint,
        StoragePath = Folder.StorePath,
        ShutdownTimeout = TimeSpan.Zero,
        Headers = { ["X-User-ID"] = CrashChildCommand.UserId },
    };
}
