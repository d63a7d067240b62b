using System.Diagnostics;
using System.Globalization;
using Clickstream.Benchmarks.Harness;
using Clickstream.Benchmarks.Support;

namespace Clickstream.Benchmarks.Report;

/// <summary>
/// What <c>report --baseline PATH</c> measured with another build of the repository (its
/// <c>Clickstream.Benchmarks.dll</c>): its pipeline contenders, alternated with this build's; its backlog write and
/// drain; its BenchmarkDotNet caller cost and durable ingest. The "Before / after" table is written from these.
/// </summary>
internal sealed class BaselineResults
{
    public required string Assembly { get; init; }

    /// <summary>The baseline's git commit (short), or null when its folder is not in a git work tree.</summary>
    public string? Commit { get; init; }

    /// <summary>This build's commit, read when the run starts (the work tree may move on meanwhile).</summary>
    public string? AfterCommit { get; init; }

    /// <summary>The baseline's runs of <see cref="Contenders"/> <c>pipeline-qos0</c> and <c>pipeline-qos1</c>.</summary>
    public List<Measurement> Delivery { get; } = [];

    public Measurement? BacklogWrite { get; set; }

    public Measurement? BacklogDrain { get; set; }

    public List<BenchmarkRow> CallerCost { get; } = [];

    public List<BenchmarkRow> Ingest { get; } = [];

    /// <summary>Every round's rows, caller cost and ingest, before they were reduced to medians.</summary>
    public List<BenchmarkRow> Rounds { get; } = [];
}

/// <summary>Runs the parts of a baseline build that the "Before / after" table compares.</summary>
internal static class Baseline
{
    /// <summary>The contenders run from the baseline too: the ones that measure the pipeline, not the peers.</summary>
    public static readonly string[] Delivery = [Contenders.PipelineQoS0, Contenders.PipelineQoS1];

    private const int ProbeEvents = 1_000;

    /// <summary>
    /// Runs one small <c>pipeline-qos0</c> child of the baseline: a build whose child protocol (arguments, measurement
    /// line) differs fails here, before the suite spends its time, with what it printed.
    /// </summary>
    public static async Task<BaselineResults> CheckAsync(string assembly, StubAddresses stub)
    {
        try
        {
            var probe = await ChildProcess.RunAsync(Contenders.PipelineQoS0, ProbeEvents, stub, timeout: TimeSpan.FromMinutes(3), assembly: assembly);
            if (probe.Events != ProbeEvents || probe.Delivered != ProbeEvents)
            {
                throw new InvalidOperationException($"its {Contenders.PipelineQoS0} child measured {probe.Delivered} of {probe.Events} events, {ProbeEvents} asked.");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"The baseline {assembly} does not run as this suite's child process: {e.Message}", e);
        }

        return new BaselineResults { Assembly = assembly, Commit = Commit(Path.GetDirectoryName(assembly)!), AfterCommit = Commit(AppContext.BaseDirectory) };
    }

    /// <summary>The short commit of the work tree holding <paramref name="folder"/>, "+ changes" when it has uncommitted ones.</summary>
    public static string? Commit(string folder)
    {
        var head = Git(folder, "rev-parse", "--short", "HEAD");
        if (head is null)
        {
            return null;
        }

        var changes = Git(folder, "status", "--porcelain", "--untracked-files=no");
        return string.IsNullOrEmpty(changes) ? head : head + " + uncommitted changes";
    }

    private static string? Git(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(folder);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var git = Process.Start(start);
            if (git is null)
            {
                return null;
            }

            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// The baseline's BenchmarkDotNet classes, with its own job: its program runs <c>report --only benchmarks</c> into a
    /// temp folder (its BenchmarkDotNet artifacts too), and the two tables of the BENCHMARKS.md it writes are read back.
    /// Its own report rather than a <c>--filter</c> run: the job (in process, warm-ups, iterations) is then the one
    /// this build's suite uses, whatever the baseline's BenchmarkDotNet defaults are.
    /// </summary>
    public static async Task RunBenchmarkDotNetAsync(BaselineResults baseline, SuiteOptions options, List<string> problems)
    {
        var folder = Directory.CreateTempSubdirectory("clickstream-baseline-benchmarks-");
        try
        {
            var start = ChildProcess.StartInfo(baseline.Assembly);
            start.WorkingDirectory = folder.FullName;
            foreach (var argument in (string[])["report", .. options.Smoke ? ["--smoke"] : Array.Empty<string>(), "--only", "benchmarks", "--output", folder.FullName])
            {
                start.ArgumentList.Add(argument);
            }

            Console.WriteLine($"before: {start.FileName} {string.Join(' ', start.ArgumentList)}");
            using (var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the baseline."))
            {
                using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(60));
                try
                {
                    await process.WaitForExitAsync(cancel.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    problems.Add("before: the baseline's BenchmarkDotNet run did not finish within 60 minutes.");
                    return;
                }

                if (process.ExitCode != 0)
                {
                    problems.Add($"before: the baseline's `report --only benchmarks` exited with {process.ExitCode}.");
                }
            }

            var report = Path.Combine(folder.FullName, ResultsMarkdown.FileName);
            var lines = File.Exists(report) ? File.ReadAllLines(report) : [];
            baseline.CallerCost.AddRange(ReadTable(lines, "## Caller cost", problems));
            baseline.Ingest.AddRange(ReadTable(lines, "## QoS1 durable ingest", problems));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private const string TableHeader = "| method | parameters | mean | op/s | allocated B/op |";

    /// <summary>
    /// The rows of the BenchmarkDotNet table under the heading starting with <paramref name="heading"/>, as
    /// <see cref="ResultsMarkdown"/> writes it: method, parameters, mean, op/s, allocated B/op, ratio. The mean is taken
    /// from op/s, which has more digits than the mean's text.
    /// </summary>
    public static List<BenchmarkRow> ReadTable(string[] lines, string heading, List<string> problems)
    {
        var rows = new List<BenchmarkRow>();
        var section = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
        var at = -1;
        for (var i = section + 1; section >= 0 && i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            if (lines[i].StartsWith(TableHeader, StringComparison.Ordinal))
            {
                at = i;
                break;
            }
        }

        if (at < 0)
        {
            problems.Add($"before: no table under '{heading}' in the baseline's {ResultsMarkdown.FileName}.");
            return rows;
        }

        var c = CultureInfo.InvariantCulture;
        for (at += 2; at < lines.Length && lines[at].StartsWith('|'); at++)
        {
            var cells = lines[at].Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 7 || !double.TryParse(cells[4], NumberStyles.Number, c, out var perSecond) || perSecond <= 0)
            {
                problems.Add($"before: unreadable row in the baseline's {ResultsMarkdown.FileName}: {lines[at]}");
                continue;
            }

            double? allocated = double.TryParse(cells[5], NumberStyles.Number, c, out var bytes) ? bytes : null;
            rows.Add(new BenchmarkRow(cells[1], cells[2], 1e9 / perSecond, allocated));
        }

        return rows;
    }
}
