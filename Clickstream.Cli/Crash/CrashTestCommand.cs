using Clickstream.Cli.CommandLine;
using Spectre.Console;

namespace Clickstream.Cli.Crash;

/// <summary>
/// <c>crash-test</c>: the crash test of the test suite, as long as asked (<c>--kills 200</c>). Kills
/// <c>crash-child</c> processes with SIGKILL at random points and checks that every event whose TrackAsync
/// completed reached the collector. Exit code 0 only when nothing was lost and duplicates stayed within the
/// requests in flight.
/// </summary>
internal sealed class CrashTestCommand : ICliCommand
{
    private const string KillsOption = "kills";
    private const string SeedOption = "seed";
    private const string MaxLinesOption = "max-events-before-kill";
    private const string ProducersOption = "producers";
    private const string BatchSizeOption = "batch-size";
    private const string RequestsOption = "concurrent-requests";
    private const string VerboseOption = "verbose";

    public string Name => "crash-test";

    public string Summary => "Kill child processes tracking QoS1 events at random points (SIGKILL) and check that every acknowledged event arrives.";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new(KillsOption, "N", "Children killed before the final flush. Default 200."),
        new(SeedOption, "N", "Seed of the random kill points. Default 1."),
        new(MaxLinesOption, "N", "Most events a child reports before it is killed. Default 3,000."),
        new(ProducersOption, "N", "Concurrent TrackAsync callers in each child. Default 8."),
        new(BatchSizeOption, "N", "The children's MaxBatchSize. Default 50."),
        new(RequestsOption, "N", "The children's MaxConcurrentRequests. Default 4."),
        new(VerboseOption, null, "Print a line per child."),
    ];

    public async Task<int> RunAsync(ParsedArguments arguments, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var settings = new CrashSettings
        {
            Kills = arguments.GetInt32(KillsOption, 200, 0, 100_000),
            Seed = arguments.GetInt32(SeedOption, 1, int.MinValue, int.MaxValue),
            MaxLinesBeforeKill = arguments.GetInt32(MaxLinesOption, 3_000, 1, 1_000_000),
            Producers = arguments.GetInt32(ProducersOption, 8, 1, 1_000),
            BatchSize = arguments.GetInt32(BatchSizeOption, 50, 1, 100_000),
            ConcurrentRequests = arguments.GetInt32(RequestsOption, 4, 1, 1_000),
        };
        var verbose = arguments.Has(VerboseOption);
        console.MarkupLineInterpolated($"Crash test: {settings.Kills} kills (seed {settings.Seed}), up to {settings.MaxLinesBeforeKill:N0} events per child, {settings.Producers} producers, batch size {settings.BatchSize}, {settings.ConcurrentRequests} requests in flight.");

        CrashReport report;
        try
        {
            report = await CrashHarness.RunAsync(settings, line => Progress(console, line, verbose), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.MarkupLine("[yellow]cancelled[/]");
            return ExitCodes.Failure;
        }

        Write(console, report);
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
        table.AddRow("  bound (kills x requests x batch size)", Invariant(report.DuplicateBound));
        table.AddRow("received, never reported (killed before printing)", Invariant(report.ReceivedUnreported));
        table.AddRow("left on disk after the final flush", Invariant(report.PendingAfterFlush));
        table.AddRow("undecodable events", Invariant(report.Undecodable));
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
