using System.ComponentModel;
using Clickstream.Cli;
using Clickstream.Cli.CommandLine;
using Spectre.Console;
using Spectre.Console.Cli;
// NUnit has a DescriptionAttribute too (global using); Spectre reads the ComponentModel one.
using DescriptionAttribute = System.ComponentModel.DescriptionAttribute;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// <c>crash-test</c>: the crash test of the test suite, as long as asked (<c>--kills 200</c>). Kills
/// <c>crash-child</c> processes with SIGKILL at random points and checks that every event whose TrackAsync
/// completed reached the collector. Exit code 0 only when nothing was lost and duplicates stayed within the
/// requests in flight.
/// </summary>
internal sealed class CrashTestCommand(IAnsiConsole console) : AsyncCommand<CrashTestCommand.Settings>
{
    /// <summary>The options of <c>crash-test</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--kills <N>")]
        [Description("Children killed before the final flush.")]
        [DefaultValue(200)]
        [TypeConverter(typeof(CountConverter))]
        public int Kills { get; init; } = 200;

        [CommandOption("--seed <N>")]
        [Description("Seed of the random kill points.")]
        [DefaultValue(1)]
        [TypeConverter(typeof(CountConverter))]
        public int Seed { get; init; } = 1;

        [CommandOption("--max-events-before-kill <N>")]
        [Description("Most events a child reports before it is killed.")]
        [DefaultValue(3_000)]
        [TypeConverter(typeof(CountConverter))]
        public int MaxLinesBeforeKill { get; init; } = 3_000;

        [CommandOption("--producers <N>")]
        [Description("Concurrent TrackAsync callers in each child.")]
        [DefaultValue(8)]
        [TypeConverter(typeof(CountConverter))]
        public int Producers { get; init; } = 8;

        [CommandOption("--batch-size <N>")]
        [Description("The children's MaxBatchSize.")]
        [DefaultValue(50)]
        [TypeConverter(typeof(CountConverter))]
        public int BatchSize { get; init; } = 50;

        [CommandOption("--concurrent-requests <N>")]
        [Description("The children's MaxConcurrentRequests.")]
        [DefaultValue(4)]
        [TypeConverter(typeof(CountConverter))]
        public int ConcurrentRequests { get; init; } = 4;

        [CommandOption("--legacy-events <N>")]
        [Description("Start from a store of the legacy layout holding N events: the first children are killed while they migrate it (100 events per transaction) until one finishes. 0: none.")]
        [DefaultValue(0)]
        [TypeConverter(typeof(CountConverter))]
        public int LegacyEvents { get; init; }

        [CommandOption("--power-cuts <N>")]
        [Description("Cut the power N times instead of --kills: the store on a LazyFS mount, every unsynced write dropped after each kill (Linux, root, /dev/fuse). FlushCommitsToDisk is on unless --flush-off.")]
        [TypeConverter(typeof(CountConverter))]
        public int? PowerCuts { get; init; }

        [CommandOption("--flush-off")]
        [Description("With --power-cuts: FlushCommitsToDisk off, to measure what a cut loses; the run then passes when no store was moved aside.")]
        public bool FlushOff { get; init; }

        [CommandOption("--lazyfs <PATH>")]
        [Description("With --power-cuts: the LazyFS binary. By default it is built once from shared/tools/lazyfs/build.sh in a folder above this one.")]
        public string? LazyFs { get; init; }

        [CommandOption("--verbose")]
        [Description("Print a line per child.")]
        public bool Verbose { get; init; }

        public override ValidationResult Validate() => new Checks()
            .Range("--kills", Kills, 0, 100_000)
            .Range("--max-events-before-kill", MaxLinesBeforeKill, 1, 1_000_000)
            .Range("--producers", Producers, 1, 1_000)
            .Range("--batch-size", BatchSize, 1, 100_000)
            .Range("--concurrent-requests", ConcurrentRequests, 1, 1_000)
            .Range("--power-cuts", PowerCuts ?? 1, 1, 100_000)
            .Range("--legacy-events", LegacyEvents, 0, 10_000_000)
            .That(PowerCuts is not null || (!FlushOff && LazyFs is null), "--flush-off and --lazyfs go with --power-cuts.")
            .That(LazyFs is null || File.Exists(LazyFs), $"--lazyfs: {LazyFs} does not exist.")
            .Result();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings arguments, CancellationToken cancellationToken)
    {
        var settings = new CrashSettings
        {
            Kills = arguments.Kills,
            Seed = arguments.Seed,
            MaxLinesBeforeKill = arguments.MaxLinesBeforeKill,
            Producers = arguments.Producers,
            BatchSize = arguments.BatchSize,
            ConcurrentRequests = arguments.ConcurrentRequests,
            LegacyEvents = arguments.LegacyEvents,
        };
        if (arguments.PowerCuts is { } cuts)
        {
            settings = settings with
            {
                Kills = cuts,
                LazyFs = await PowerCuts.LazyFsAsync(arguments.LazyFs, cancellationToken),
                FlushCommitsToDisk = !arguments.FlushOff,

                // With the option on, cuts land in checkpoints, compactions and evictions too (nothing may be lost
                // there either). Without it, a cut's loss is what is measured: evictions would blur it.
                RarePaths = !arguments.FlushOff,
            };
        }

        var verbose = arguments.Verbose;
        var what = settings.LazyFs is null ? "kills" : settings.FlushCommitsToDisk ? "power cuts, FlushCommitsToDisk on" : "power cuts, FlushCommitsToDisk off";
        console.MarkupLineInterpolated($"Crash test: {settings.Kills} {what} (seed {settings.Seed}), up to {settings.MaxLinesBeforeKill:N0} events per child, {settings.Producers} producers, batch size {settings.BatchSize}, {settings.ConcurrentRequests} requests in flight.");

        var report = await CrashHarness.RunAsync(settings, line => Progress(console, line, verbose), cancellationToken);

        Write(console, report);
        if (settings.LazyFs is not null)
        {
            return PowerCuts.Write(console, report) ? ExitCodes.Success : ExitCodes.Failure;
        }

        return report.Passed ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static void Progress(IAnsiConsole console, string line, bool verbose)
    {
        // Without --verbose: every tenth child and the flush, so that a long run shows it is alive.
        if (verbose || !line.StartsWith("child ", StringComparison.Ordinal) || line.StartsWith("child 0:", StringComparison.Ordinal) || IsTenth(line))
        {
            console.WriteLine(line);
        }
    }

    private static bool IsTenth(string line)
    {
        var end = line.IndexOf(':', StringComparison.Ordinal);
        return end > 6 && int.TryParse(line.AsSpan(6, end - 6), System.Globalization.CultureInfo.InvariantCulture, out var round) && (round + 1) % 10 == 0;
    }

    private static void Write(IAnsiConsole console, CrashReport report)
    {
        var table = new Table().AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        table.AddRow("kills", Invariant(report.Kills));
        foreach (var phase in Enum.GetValues<KillPhase>())
        {
            table.AddRow($"  {phase.ToString().ToLowerInvariant()}", Invariant(report.KillsByPhase.GetValueOrDefault(phase)));
        }

        table.AddRow("reported events (TrackAsync completed)", Invariant(report.ReportedEvents));
        table.AddRow("received by the collector", Invariant(report.ReceivedEvents));
        table.AddRow("lost", Invariant(report.Lost.Count));
        table.AddRow("duplicates (extra copies)", Invariant(report.Duplicates));
        table.AddRow("  events received more than once", Invariant(report.DuplicatedNumbers));
        table.AddRow("  bound ((kills + write failures) x requests x batch size)", Invariant(report.DuplicateBound));
        table.AddRow("received, never reported (killed before printing)", Invariant(report.ReceivedUnreported));
        table.AddRow("left on disk after the final flush", Invariant(report.PendingAfterFlush));
        table.AddRow("undecodable events", Invariant(report.Undecodable));
        table.AddRow("evicted by the store bound (allowed missing)", Invariant(report.Evicted));
        table.AddRow("  of them reported and never received", Invariant(report.LostEvicted));
        table.AddRow("compactions", Invariant(report.Compactions));
        table.AddRow("injected write failures", Invariant(report.FailedWrites));
        table.AddRow("elapsed", FormattableString.Invariant($"{report.Elapsed.TotalSeconds:F1} s"));
        console.Write(table);

        if (report.Lost.Count > 0)
        {
            console.MarkupLine("[red]LOST EVENTS[/]:");
            console.WriteLine(report.DescribeLost());
        }

        if (report.Passed)
        {
            console.MarkupLineInterpolated($"[green]OK[/]: 0 lost over {report.Kills} kills; {report.Duplicates:N0} duplicates (bound {report.DuplicateBound:N0}).");
        }
        else
        {
            console.MarkupLine("[red]FAILED[/]: see above.");
        }
    }

    private static string Invariant(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
