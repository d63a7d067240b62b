using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// The power-loss proof (issue 16), on LazyFS: a FUSE file system that keeps every write in its own cache until
/// it is synced and drops all unsynced writes on command, which is what a power cut does. The store lives on a
/// LazyFS mount; after each SIGKILL of a child the cache is dropped, and the next child opens what the device
/// held. With <see cref="ClickstreamOptions.FlushCommitsToDisk"/> every event whose TrackAsync completed must
/// arrive; without it a cut may lose the commits since the last sync, but never the whole store.
/// </summary>
/// <remarks>
/// LazyFS is built once from <c>shared/tools/lazyfs/build.sh</c> (beside the repository checkout, read-only) into
/// a folder under the temp folder; the build installs its Debian packages when they are missing. It needs root
/// and <c>/dev/fuse</c>, which CI has: only their absence skips these tests. Every mount is unmounted by the
/// harness's disposal, whatever the outcome. <c>crash-test --power-cuts 200</c> (see <see cref="Program"/>) is the long run.
/// </remarks>
[Category("Crash")]
[NonParallelizable]
public class PowerCutTests
{
    private string _lazyFs = null!;

    [OneTimeSetUp]
    public async Task BuildLazyFsAsync()
    {
        if (LazyFs.WhyUnavailable() is { } why)
        {
            Assert.Ignore("Power-cut tests skipped: " + why);
        }

        var script = LazyFs.FindBuildScript(TestContext.CurrentContext.TestDirectory);
        Assert.That(script, Is.Not.Null, $"{LazyFs.BuildScript} in a folder above {TestContext.CurrentContext.TestDirectory} (the shared folder beside the checkout)");
        _lazyFs = await LazyFs.BuildAsync(script!, LazyFs.DefaultOutput, Timeouts.Guard(900));
    }

    [Test]
    public async Task Store_closed_before_a_power_cut_keeps_every_event_without_FlushCommitsToDisk()
    {
        // A clean close checkpoints the log into the data file and empties the log: the data file must be on the
        // device before the log is emptied, or the cut takes both copies of every event.
        using var folder = new TempFolder();
        await using var mount = await LazyFsMount.MountAsync(_lazyFs, folder.Path, Timeouts.Guard());
        await using var harness = await PipelineHarness.StartAsync();
        var path = Path.Combine(mount.Folder, "events.db");
        var first = harness.Create(o => o.StoragePath = path);
        first.Pause();
        for (var i = 0; i < 50; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        await first.DisposeAsync();
        await mount.CutPowerAsync(Timeouts.Guard());

        var second = harness.Create(o => o.StoragePath = path);
        var statistics = second.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statistics.EventsRecovered, Is.EqualTo(50));
            Assert.That(statistics.StoreFilesMovedAside, Is.Zero);
        }

        await second.FlushAsync(harness.Guard);
        Assert.That(harness.Collector.Stats.Events, Is.EqualTo(50));
        await second.DisposeAsync();
    }

    [Test]
    public async Task Power_cuts_at_random_points_and_in_migration_checkpoints_compactions_and_evictions_lose_no_QoS1_event_with_FlushCommitsToDisk()
    {
        // The first children migrate a legacy store of 600 events, 20 per transaction, and are cut part way; the
        // rest cross checkpoints and compactions (thresholds lowered), evictions (a bound) and a failed write each.
        var settings = new CrashSettings
        {
            Kills = 12,
            Seed = 16,
            MaxLinesBeforeKill = 1_500,
            LazyFs = _lazyFs,
            FlushCommitsToDisk = true,
            MaxStoredEvents = 400,
            LegacyEvents = 600,
            MigrationChunk = 20,
        };

        var report = await CrashHarness.RunAsync(settings, line => TestContext.Out.WriteLine(line), Timeouts.Guard(900));

        TestContext.Out.WriteLine(report.Summary());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.PowerCuts, Is.EqualTo(settings.Kills));
            Assert.That(report.ReportedEvents, Is.GreaterThan(settings.LegacyEvents));
            Assert.That(report.Lost, Is.Empty, report.DescribeLost());
            Assert.That(report.KillsDuringMigration, Is.InRange(2, settings.Kills - 1), "cut during the migration more than once, and the migration kept its progress across the cuts");
            Assert.That(report.Compactions, Is.Positive);
            Assert.That(report.Evicted, Is.Positive);
            Assert.That(report.PendingAfterFlush, Is.Zero, "events left on disk after the final FlushAsync");
            Assert.That(report.Undecodable, Is.Zero);
        }

        // Not asserted: LiteDB now and then finds a page inconsistent after a cut in these rare paths ("invalid segment
        // position in index footer", about once in a few hundred cuts; LiteDB issue #2983). The store then moves the file
        // aside and salvages it, and the assertion that matters, nothing acknowledged lost, covers that path too.
        if (report.StoresMovedAside > 0)
        {
            TestContext.Out.WriteLine($"{report.StoresMovedAside} store(s) found damaged after a cut, moved aside and salvaged (see the 'store moved aside' lines).");
        }
    }

    [Test]
    public async Task Power_cuts_without_FlushCommitsToDisk_lose_only_recent_commits_never_the_store()
    {
        var settings = new CrashSettings { Kills = 5, Seed = 17, MaxLinesBeforeKill = 1_500, LazyFs = _lazyFs, RarePaths = false };

        var report = await CrashHarness.RunAsync(settings, line => TestContext.Out.WriteLine(line), Timeouts.Guard(600));

        TestContext.Out.WriteLine(report.Summary());
        TestContext.Out.WriteLine(report.DescribeLost());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.PowerCuts, Is.EqualTo(settings.Kills));
            Assert.That(report.StoresMovedAside, Is.Zero, "a store judged damaged after a cut");
            Assert.That(report.PendingAfterFlush, Is.Zero, "events left on disk after the final FlushAsync");
            Assert.That(report.Undecodable, Is.Zero);
            Assert.That(report.Lost, Has.Count.LessThan(report.ReportedEvents), "the synced commits survive");
        }
    }
}
