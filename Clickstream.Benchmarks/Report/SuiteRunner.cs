using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkReport = BenchmarkDotNet.Reports.BenchmarkReport;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using Clickstream.Benchmarks.Harness;
using Clickstream.Benchmarks.Support;

namespace Clickstream.Benchmarks.Report;

/// <summary>
/// <c>report</c>: the whole suite in one command. End-to-end delivery (pipeline, OpenTelemetry, raw HttpClient; each
/// run in its own child process, contenders alternated, medians reported), each transport, EventPipe allocation
/// and CPU profiles, the backlog drain, then BenchmarkDotNet's caller-cost and durable-ingest classes; finally BENCHMARKS.md
/// and docs/benchmarks/e2e.png are rewritten from this run's numbers.
/// </summary>
internal static class SuiteRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = SuiteOptions.Parse(args);
        var output = options.Output ?? (options.Smoke ? Directory.CreateTempSubdirectory("clickstream-bench-smoke-").FullName : RepositoryRoot.Find());
        var results = new SuiteResults { Options = options, StartedUtc = DateTime.UtcNow };
        var clock = Stopwatch.StartNew();

        await using (var stub = await StubProcess.StartAsync())
        {
            if (options.Baseline is { } assembly)
            {
                try
                {
                    results.Baseline = await Baseline.CheckAsync(assembly, stub.Addresses);
                }
                catch (InvalidOperationException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    return 2;
                }

                Console.WriteLine($"before: {assembly} (commit {results.Baseline.Commit ?? "unknown"}) runs as a child of this suite.");
            }

            if (options.Includes("delivery"))
            {
                await RunDeliveryAsync(stub.Addresses, options, results);
            }

            if (options.Includes("profiles"))
            {
                await RunProfilesAsync(stub.Addresses, options, results, output);
            }

            if (options.Includes("backlog"))
            {
                await RunBacklogAsync(stub.Addresses, options, results);
            }
        }

        if (options.Includes("benchmarks"))
        {
            await RunBenchmarkRoundsAsync(options, results);
        }

        results.Duration = clock.Elapsed;

        var problems = ResultsMarkdown.Write(results, output);
        Console.WriteLine($"Wrote {Path.Combine(output, ResultsMarkdown.FileName)} and {Path.Combine(output, E2eChart.RelativePath)} in {clock.Elapsed:mm\\:ss}.");
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"error: {problem}");
        }

        if (options.Smoke && options.Output is null)
        {
            // The smoke run proves that the report and the chart are written; nobody reads them.
            problems.AddRange(ResultsMarkdown.Missing(output, baseline: results.Baseline is not null));
            Directory.Delete(output, recursive: true);
        }

        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task RunDeliveryAsync(StubAddresses stub, SuiteOptions options, SuiteResults results)
    {
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var contender in Contenders.Delivery)
            {
                var label = $"run {run}/{options.Runs}";
                if (results.Baseline is not { } baseline || Array.IndexOf(Baseline.Delivery, contender) < 0)
                {
                    results.Delivery.Add(await MeasureAsync(contender, options.Events, stub, label));
                    continue;
                }

                // Before and after back to back, the first of the two switching every run: neither gets the quieter slot.
                foreach (var before in run % 2 == 1 ? (bool[])[true, false] : [false, true])
                {
                    var measurement = await MeasureAsync(contender, options.Events, stub, label, before ? baseline.Assembly : null);
                    (before ? baseline.Delivery : results.Delivery).Add(measurement);
                }
            }

            foreach (var contender in Contenders.Transports)
            {
                results.Transports.Add(await MeasureAsync(contender, options.TransportEvents, stub, $"run {run}/{options.Runs}"));
            }
        }
    }

    private static async Task<Measurement> MeasureAsync(string contender, int events, StubAddresses stub, string label, string? baseline = null)
    {
        var measurement = await ChildProcess.RunAsync(contender, events, stub, assembly: baseline);
        Console.WriteLine($"{label} {(baseline is null ? "after " : "before")} {contender,-22} {measurement.EventsPerSecond,12:N0} events/s {measurement.BytesPerEvent,8:N0} B/event {measurement.CpuMicrosecondsPerEvent,6:N2} CPU us/event  gen0/1/2 {measurement.Gen0}/{measurement.Gen1}/{measurement.Gen2}  delivered {measurement.Delivered:N0}/{measurement.Events:N0}");
        return measurement;
    }

    private static async Task RunProfilesAsync(StubAddresses stub, SuiteOptions options, SuiteResults results, string output)
    {
        var folder = Path.Combine(output, "BenchmarkDotNet.Artifacts", "profiles");
        Directory.CreateDirectory(folder);
        foreach (var contender in (string[])[Contenders.PipelineQoS0, Contenders.OpenTelemetry])
        {
            var trace = Path.Combine(folder, contender + ".nettrace");
            var profile = await AllocationProfile.RunAsync(contender, options.ProfileEvents, stub, trace);
            results.Profiles.Add(profile);
            Console.WriteLine($"profile {contender}: {trace}; top types: {string.Join(", ", profile.Types.Take(5).Select(t => $"{t.Type} {t.Share:P0}"))}");
        }

        foreach (var contender in CpuProfiled)
        {
            var trace = Path.Combine(folder, contender + ".cpu.nettrace");
            AddCpuProfile(results, contender, trace, await CpuProfile.RunAsync(contender, options.ProfileEvents, stub, trace));
        }

        // The backlog drain too: a backlog written with delivery paused, then drained by a profiled child.
        var backlog = Directory.CreateTempSubdirectory("clickstream-backlog-profile-");
        try
        {
            await ChildProcess.RunAsync(Contenders.BacklogWrite, options.ProfileEvents, stub, backlog.FullName, timeout: TimeSpan.FromMinutes(10));
            var trace = Path.Combine(folder, Contenders.BacklogDrain + ".cpu.nettrace");
            AddCpuProfile(results, Contenders.BacklogDrain, trace, await CpuProfile.RunAsync(Contenders.BacklogDrain, options.ProfileEvents, stub, trace, backlog.FullName));
        }
        finally
        {
            backlog.Delete(recursive: true);
        }
    }

    private static void AddCpuProfile(SuiteResults results, string contender, string trace, (Measurement Measurement, CpuProfileSummary Summary) profile)
    {
        results.CpuProfiles.Add(profile);
        var summary = profile.Summary;
        Console.WriteLine($"cpu profile {contender}: {trace}; {summary.CpuSamples:N0} CPU samples ({summary.NativeSamples:N0} native), {summary.WaitingSamples:N0} waiting left out "
            + $"(top: {string.Join(", ", summary.Waits.Select(w => $"{w.Name} {w.Share:P0}"))}); "
            + $"components: {string.Join(", ", summary.Components.Take(5).Select(c => $"{c.Name} {c.Share:P0}"))}");
    }

    /// <summary>The contenders whose CPU time is profiled: the pipeline at both QoS and the peer.</summary>
    private static readonly string[] CpuProfiled = [Contenders.PipelineQoS0, Contenders.OpenTelemetry, Contenders.PipelineQoS1];

    private static async Task RunBacklogAsync(StubAddresses stub, SuiteOptions options, SuiteResults results)
    {
        (results.BacklogWrite, results.BacklogDrain) = await RunBacklogAsync(stub, options, baseline: null);
        if (results.Baseline is { } baseline)
        {
            (baseline.BacklogWrite, baseline.BacklogDrain) = await RunBacklogAsync(stub, options, baseline.Assembly);
        }
    }

    /// <summary>Writes and drains a backlog in a folder of its own, with this build's children or <paramref name="baseline"/>'s.</summary>
    private static async Task<(Measurement Write, Measurement Drain)> RunBacklogAsync(StubAddresses stub, SuiteOptions options, string? baseline)
    {
        var who = baseline is null ? "backlog" : "before backlog";
        var folder = Directory.CreateTempSubdirectory("clickstream-backlog-");
        try
        {
            var write = await ChildProcess.RunAsync(Contenders.BacklogWrite, options.BacklogEvents, stub, folder.FullName, timeout: TimeSpan.FromMinutes(10), assembly: baseline);
            Console.WriteLine($"{who}: {write.Delivered:N0} events stored in {write.Seconds:F1} s");
            var drain = await ChildProcess.RunAsync(Contenders.BacklogDrain, options.BacklogEvents, stub, folder.FullName, timeout: TimeSpan.FromMinutes(10), assembly: baseline);
            Console.WriteLine($"{who}: {drain.Delivered:N0} of {drain.Events:N0} drained in {drain.Seconds:F1} s, peak working set {drain.PeakWorkingSetMB:F0} MB");
            return (write, drain);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The BenchmarkDotNet classes; with a baseline, <see cref="SuiteOptions.Runs"/> rounds of this build's and the
    /// baseline's, alternated (which goes first switches every round), and each method's median over the rounds: on the
    /// shared machine one round of either drifted by a third from one minute to the next.
    /// </summary>
    private static async Task RunBenchmarkRoundsAsync(SuiteOptions options, SuiteResults results)
    {
        if (results.Baseline is not { } baseline)
        {
            RunBenchmarkDotNet(options, results.CallerCost, results.Ingest, results.Problems);
            return;
        }

        var rounds = options.Smoke ? 1 : Math.Max(1, options.Runs);
        for (var round = 0; round < rounds; round++)
        {
            Console.WriteLine($"benchmarks: round {round + 1}/{rounds}");
            if (round % 2 == 1)
            {
                await Baseline.RunBenchmarkDotNetAsync(baseline, options, results.Problems);
            }

            RunBenchmarkDotNet(options, results.CallerCost, results.Ingest, results.Problems);
            if (round % 2 == 0)
            {
                await Baseline.RunBenchmarkDotNetAsync(baseline, options, results.Problems);
            }
        }

        results.BenchmarkRounds = rounds;
        results.Rounds.AddRange([.. results.CallerCost, .. results.Ingest]);
        baseline.Rounds.AddRange([.. baseline.CallerCost, .. baseline.Ingest]);
        Medians(results.CallerCost);
        Medians(results.Ingest);
        Medians(baseline.CallerCost);
        Medians(baseline.Ingest);
    }

    /// <summary>Replaces the rows of each method by one: the median of its means and of its allocations.</summary>
    private static void Medians(List<BenchmarkRow> rows)
    {
        var medians = rows
            .GroupBy(r => (r.Method, r.Parameters))
            .Select(g => new BenchmarkRow(
                g.Key.Method,
                g.Key.Parameters,
                Median(g.Select(r => r.MeanNanoseconds)),
                g.Any(r => r.AllocatedBytes is null) ? null : Median(g.Select(r => r.AllocatedBytes!.Value))))
            .ToList();
        rows.Clear();
        rows.AddRange(medians);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void RunBenchmarkDotNet(SuiteOptions options, List<BenchmarkRow> callerCost, List<BenchmarkRow> ingest, List<string> problems)
    {
        // In process: no generated project to build (its build took over BenchmarkDotNet's 2-minute limit on the busy
        // 2-core machine), and this process has run nothing itself (every harness run is a child process).
        var job = options.Smoke
            ? Job.Dry.WithToolchain(InProcessNoEmitToolchain.Instance)
            : Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6).WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(10), logOutput: true));
        var config = DefaultConfig.Instance.AddJob(job.AsDefault()).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summaries = BenchmarkRunner.Run([typeof(TrackAsyncBenchmarks), typeof(StoreIngestBenchmarks)], config);
        foreach (var summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
            {
                problems.Add($"BenchmarkDotNet refused {summary.Title}: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
            }

            foreach (var report in summary.Reports)
            {
                if (!report.Success)
                {
                    problems.Add($"{report.BenchmarkCase.DisplayInfo} failed to run.");
                }
            }

            var rows = summary.BenchmarksCases.Length > 0 && summary.BenchmarksCases[0].Descriptor.Type == typeof(TrackAsyncBenchmarks) ? callerCost : ingest;
            foreach (var report in summary.Reports)
            {
                rows.Add(ToRow(report));
            }
        }
    }

    private static BenchmarkRow ToRow(BenchmarkReport report) => new(
        report.BenchmarkCase.Descriptor.WorkloadMethod.Name,
        report.BenchmarkCase.Parameters.DisplayInfo,
        report.ResultStatistics?.Mean ?? double.NaN,
        report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase));
}
