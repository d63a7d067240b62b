using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Clickstream.Benchmarks.Harness;

namespace Clickstream.Benchmarks.Report;

/// <summary>
/// Writes BENCHMARKS.md (and the chart) from one <see cref="SuiteResults"/>: machine, date, command, every table with
/// its ratios, and each target of issue 6 met or not. Returns what makes the run void (an event not delivered).
/// </summary>
internal static class ResultsMarkdown
{
    public const string FileName = "BENCHMARKS.md";

    public static List<string> Write(SuiteResults results, string output)
    {
        var problems = new List<string>(results.Problems);
        var delivery = Summaries(results.Delivery, Contenders.Delivery, problems);
        var transports = Summaries(results.Transports, Contenders.Transports, problems);
        E2eChart.Write(delivery, output);

        var md = new StringBuilder();
        var targets = new List<(string Target, string Measured, bool? Met)>();
        Header(md, results);
        BeforeAfter.Write(md, results);
        if (results.Baseline is { } baseline)
        {
            problems.AddRange(BeforeAfter.Problems(baseline));
        }

        DeliveryTable(md, delivery, targets);
        CallerCostTable(md, results.CallerCost, targets);
        IngestTable(md, results.Ingest, targets);
        BacklogTable(md, results, targets, problems);
        TransportTable(md, transports);
        ProfileTables(md, results);
        CpuProfileTables(md, results);
        TargetsTable(md, targets);
        File.WriteAllText(Path.Combine(output, FileName), md.ToString());
        UpdateReadmeSummary(Path.Combine(output, "README.md"), results, targets);
        return problems;
    }

    /// <summary>
    /// Rewrites the README's benchmark summary (between <see cref="SummaryStart"/> and <see cref="SummaryEnd"/>) with
    /// this run's targets table, so that the README never shows a figure typed by hand. No README (the smoke run's temp
    /// folder) or no markers: nothing to do.
    /// </summary>
    private static void UpdateReadmeSummary(string readme, SuiteResults results, List<(string Target, string Measured, bool? Met)> targets)
    {
        if (!File.Exists(readme))
        {
            return;
        }

        var text = File.ReadAllText(readme);
        var start = text.IndexOf(SummaryStart, StringComparison.Ordinal);
        var end = text.IndexOf(SummaryEnd, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            return;
        }

        var summary = new StringBuilder();
        summary.AppendLine(SummaryStart);
        summary.AppendLine(Invariant($"From the run of {results.StartedUtc:yyyy-MM-dd HH:mm} UTC ({FileName} has every table):"));
        summary.AppendLine();
        TargetsTable(summary, targets, heading: false);
        var updated = string.Concat(text.AsSpan(0, start), summary.ToString(), text.AsSpan(end));
        File.WriteAllText(readme, updated);
    }

    private const string SummaryStart = "<!-- benchmark summary: written by `Clickstream.Benchmarks -- report` -->";
    private const string SummaryEnd = "<!-- end of benchmark summary -->";

    /// <summary>The files a run must have written to <paramref name="output"/> (and the before / after section, with a baseline), if missing or empty.</summary>
    public static IEnumerable<string> Missing(string output, bool baseline = false)
    {
        var report = Path.Combine(output, FileName);
        if (baseline && File.Exists(report) && !File.ReadAllText(report).Contains(BeforeAfter.Heading, StringComparison.Ordinal))
        {
            yield return $"{report} has no '{BeforeAfter.Heading}' section.";
        }

        foreach (var file in (string[])[FileName, E2eChart.RelativePath])
        {
            var path = Path.Combine(output, file);
            if (!File.Exists(path) || new FileInfo(path).Length == 0)
            {
                yield return $"{path} was not written.";
            }
        }
    }

    private static List<ContenderSummary> Summaries(List<Measurement> runs, string[] contenders, List<string> problems)
    {
        var summaries = new List<ContenderSummary>();
        foreach (var contender in contenders)
        {
            if (SuiteResults.Median(runs, contender) is { } summary)
            {
                summaries.Add(summary);
                if (!summary.AllDelivered)
                {
                    problems.Add($"{contender}: the stub did not count every event of every run.");
                }
            }
        }

        return summaries;
    }

    private static void Header(StringBuilder md, SuiteResults results)
    {
        var o = results.Options;
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Written by the suite itself from one run: nothing here is typed by hand. The machines are shared and noisy, so");
        md.AppendLine("compare the ratios (every contender ran in the same run, alternated), not the absolute figures.");
        md.AppendLine();
        md.AppendLine(Invariant($"- **Command**: `dotnet run -c Release --project Clickstream.Benchmarks -- report{(o.Arguments.Length == 0 ? string.Empty : " " + o.Arguments)}`"));
        md.AppendLine(Invariant($"- **Date**: {results.StartedUtc:yyyy-MM-dd HH:mm} UTC, {results.Duration.TotalMinutes:F1} minutes"));
        md.AppendLine(Invariant($"- **Machine**: {CpuModel()}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}"));
        md.AppendLine(Invariant($"- **Sizes**: {o.Events:N0} events per end-to-end run, {o.Runs} runs of each contender (median), {o.TransportEvents:N0} per transport run, backlog {o.BacklogEvents:N0}, profiles {o.ProfileEvents:N0}{(o.Smoke ? " (smoke: tiny sizes, numbers meaningless)" : string.Empty)}"));
        md.AppendLine();
        md.AppendLine("How it is measured: [docs/ARCHITECTURE.md, Benchmarks](docs/ARCHITECTURE.md#benchmarks).");
        md.AppendLine();
    }

    private static void DeliveryTable(StringBuilder md, List<ContenderSummary> delivery, List<(string, string, bool?)> targets)
    {
        md.AppendLine("## End-to-end delivery");
        md.AppendLine();
        md.AppendLine("N page views of ~200 bytes (created before the measurement) from \"given\" to \"acknowledged by the stub\", batches of");
        md.AppendLine("500, 200 ms delay; the counting stub runs in its own process on loopback and checks every delivered count. Allocated");
        md.AppendLine("bytes and collections are the sending process's (`GC.GetTotalAllocatedBytes(true)` delta over the measured window).");
        md.AppendLine("`pipeline-qos0`: one caller, REST application/proto, 4 requests in flight; `pipeline-qos1`: 64 callers each awaiting");
        md.AppendLine("the durable commit, then delivery; `otel-otlp`: OpenTelemetry .NET 1.20.1 logs (one `ILogger` record with the page view's");
        md.AppendLine("fields) -> `BatchLogRecordExportProcessor` -> OTLP http/protobuf, queue holding the whole run, `ForceFlush`; `raw-*`: one");
        md.AppendLine(Invariant($"pre-serialized 500-event request posted again and again by one `HttpClient` on 1 or 4 connections ({DeliveryRuns.RawEventsFactor} N events: it is fast)."));
        md.AppendLine("The stub counts events without decoding them, so the raw limit here is the client's and the socket's, higher than");
        md.AppendLine("against a server that decodes each event (see the transport table, against the full collector).");
        md.AppendLine();
        md.AppendLine("![end-to-end events/s and B/event](docs/benchmarks/e2e.png)");
        md.AppendLine();
        md.AppendLine("`CPU us/event` is the sending process's CPU time (all threads) per event: less noisy than events/s on a shared machine.");
        md.AppendLine();
        md.AppendLine("| contender | runs | events/s (median) | B/event | CPU us/event | gen0 | gen1 | gen2 | x raw 1 conn | x raw 4 conn | x OTel | all delivered |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var raw1 = Find(delivery, Contenders.Raw1);
        var raw4 = Find(delivery, Contenders.Raw4);
        var otel = Find(delivery, Contenders.OpenTelemetry);
        foreach (var c in delivery)
        {
            md.AppendLine(Invariant(
                $"| {c.Contender} | {c.Runs} | {c.EventsPerSecond:N0} | {c.BytesPerEvent:N0} | {c.CpuMicrosecondsPerEvent:N2} | {c.Gen0:0.#} | {c.Gen1:0.#} | {c.Gen2:0.#} | {Ratio(c, raw1)} | {Ratio(c, raw4)} | {Ratio(c, otel)} | {(c.AllDelivered ? "yes" : "**no**")} |"));
        }

        md.AppendLine();
        var qos0 = Find(delivery, Contenders.PipelineQoS0);
        var qos1 = Find(delivery, Contenders.PipelineQoS1);
        if (qos0 is not null && raw4 is not null && raw1 is not null)
        {
            var r4 = qos0.EventsPerSecond / raw4.EventsPerSecond;
            targets.Add(("QoS0 end to end >= 0.75x the raw limit (4 connections, as the pipeline's 4 requests in flight)", Invariant($"{r4:F2}x (1 connection: {qos0.EventsPerSecond / raw1.EventsPerSecond:F2}x)"), r4 >= 0.75));
        }

        if (qos0 is not null && otel is not null)
        {
            var r = qos0.EventsPerSecond / otel.EventsPerSecond;
            targets.Add(("QoS0 end to end >= 2.5x OpenTelemetry OTLP", Invariant($"{r:F2}x ({qos0.EventsPerSecond:N0} / {otel.EventsPerSecond:N0} events/s; CPU per event {qos0.CpuMicrosecondsPerEvent / otel.CpuMicrosecondsPerEvent:F2}x OTel's)"), r >= 2.5));
        }

        if (qos0 is not null)
        {
            targets.Add(("<= 100 B allocated per event (QoS0 end to end, sending process)", Invariant($"{qos0.BytesPerEvent:N0} B/event (OTel: {otel?.BytesPerEvent ?? double.NaN:N0})"), qos0.BytesPerEvent <= 100));
        }

        if (qos1 is not null && otel is not null)
        {
            var r = qos1.EventsPerSecond / otel.EventsPerSecond;
            targets.Add(("QoS1 end to end >= 1x OpenTelemetry", Invariant($"{r:F2}x ({qos1.EventsPerSecond:N0} events/s)"), r >= 1));
        }
    }

    private static void CallerCostTable(StringBuilder md, List<BenchmarkRow> rows, List<(string, string, bool?)> targets)
    {
        md.AppendLine("## Caller cost (BenchmarkDotNet, `TrackAsyncBenchmarks`)");
        md.AppendLine();
        md.AppendLine("One caller, per call; allocated bytes are process-wide (background stages included), the stub in its own process.");
        md.AppendLine();
        BenchmarkTable(md, rows, "ChannelTryWrite", "x channel");
        var qos0 = FindRow(rows, "TrackAsyncQoS0");
        var otel = FindRow(rows, "OpenTelemetryLog");
        if (qos0 is not null && otel is not null)
        {
            var time = qos0.MeanNanoseconds / otel.MeanNanoseconds;
            var serialize = FindRow(rows, "SerializeOnly");
            var floor = serialize is null
                ? string.Empty
                : Invariant($"; serializing the event alone, which TrackAsync must do before it returns: {serialize.MeanNanoseconds:N0} ns = {serialize.MeanNanoseconds / otel.MeanNanoseconds:F2}x");
            targets.Add(("Caller cost of QoS0 TrackAsync <= 0.5x OpenTelemetry's per record", Invariant($"{time:F2}x ({qos0.MeanNanoseconds:N0} ns / {otel.MeanNanoseconds:N0} ns){floor}"), time <= 0.5));
            if (qos0.AllocatedBytes is { } a && otel.AllocatedBytes is { } b && b > 0)
            {
                targets.Add(("Caller allocated B/op <= 0.5x OpenTelemetry's", Invariant($"{a / b:F2}x ({a:N0} B / {b:N0} B)"), a / b <= 0.5));
            }
        }
    }

    private static void IngestTable(StringBuilder md, List<BenchmarkRow> rows, List<(string, string, bool?)> targets)
    {
        md.AppendLine("## QoS1 durable ingest (BenchmarkDotNet, `StoreIngestBenchmarks`)");
        md.AppendLine();
        md.AppendLine("Real LiteDB files; per event. The pipeline with 1, 8 and 64 callers each awaiting `TrackAsync` (delivery paused while");
        md.AppendLine("measured), LiteDB one `Insert` per event (its own commit) and one transaction of 1,000 documents.");
        md.AppendLine();
        BenchmarkTable(md, rows, "LiteDbInsertPerEvent", "x insert per event");
        var insert = FindRow(rows, "LiteDbInsertPerEvent");
        var transaction = FindRow(rows, "LiteDbTransactionOf1000");
        var sixtyFour = FindRow(rows, "PipelineQoS1Producers64");

        if (sixtyFour is not null && insert is not null)
        {
            targets.Add(("QoS1 durable ingest >= 150,000 events/s with 64 producers", Invariant($"{sixtyFour.OperationsPerSecond:N0} events/s (LiteDB transaction of 1,000: {transaction?.OperationsPerSecond ?? double.NaN:N0})"), sixtyFour.OperationsPerSecond >= 150_000));
            var r = insert.MeanNanoseconds / sixtyFour.MeanNanoseconds;
            targets.Add(("QoS1 durable ingest (64 producers) >= 40x one insert per event", Invariant($"{r:F1}x"), r >= 40));
        }
    }

    private static void BacklogTable(StringBuilder md, SuiteResults results, List<(string, string, bool?)> targets, List<string> problems)
    {
        md.AppendLine("## Backlog drain");
        md.AppendLine();
        md.AppendLine("QoS1 events written by 64 callers while delivery was paused (the collector \"down\"), that process disposed; then a");
        md.AppendLine("fresh process opens the store with the stub up and is timed from `Create` until every event is acknowledged, its");
        md.AppendLine("working set sampled every 10 ms.");
        md.AppendLine();
        if (results.BacklogWrite is not { } write || results.BacklogDrain is not { } drain)
        {
            md.AppendLine("Not run.");
            md.AppendLine();
            return;
        }

        md.AppendLine("| phase | events | seconds | events/s | B/event | CPU us/event | gen0/1/2 | peak working set | peak managed heap | peak heap after a GC | delivered |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(Invariant($"| write (paused) | {write.Events:N0} | {write.Seconds:F1} | {write.EventsPerSecond:N0} | {write.BytesPerEvent:N0} | {write.CpuMicrosecondsPerEvent:N1} | {write.Gen0}/{write.Gen1}/{write.Gen2} | | | | {write.Delivered:N0} stored |"));
        md.AppendLine(Invariant($"| drain | {drain.Events:N0} | {drain.Seconds:F1} | {drain.Delivered / drain.Seconds:N0} | {drain.BytesPerEvent:N0} | {drain.CpuMicrosecondsPerEvent:N1} | {drain.Gen0}/{drain.Gen1}/{drain.Gen2} | {drain.PeakWorkingSetMB:N0} MB | {drain.PeakHeapMB:N0} MB | {drain.PeakHeapAfterGcMB:N0} MB | {drain.Delivered:N0} |"));
        md.AppendLine();
        md.AppendLine("`peak managed heap` is `GC.GetTotalMemory(false)` (live objects and garbage not yet collected); `peak heap after a GC`");
        md.AppendLine("is the largest heap a GC left behind (`GCMemoryInfo.HeapSizeBytes`): what the drain holds, the rest being the GC's headroom.");
        md.AppendLine();
        var complete = drain.Delivered >= drain.Events;
        if (!complete)
        {
            problems.Add($"backlog drain: {drain.Delivered} of {drain.Events} events acknowledged before the time limit.");
        }

        var scale = drain.Events == 1_000_000 ? string.Empty : Invariant($" (with {drain.Events:N0} events, not 1,000,000)");
        targets.Add(("Backlog drain of 1,000,000 events <= 10 s", Invariant($"{drain.Seconds:F1} s{scale}{(complete ? string.Empty : ", unfinished")}"), complete && drain.Events >= 1_000_000 ? drain.Seconds <= 10 : null));
        targets.Add(("Backlog drain peak working set <= 200 MB", Invariant($"{drain.PeakWorkingSetMB:N0} MB{scale} (managed heap at most {drain.PeakHeapMB:N0} MB, of which at most {drain.PeakHeapAfterGcMB:N0} MB survived a GC)"), drain.Events >= 1_000_000 ? drain.PeakWorkingSetMB <= 200 : null));
    }

    private static void TransportTable(StringBuilder md, List<ContenderSummary> transports)
    {
        md.AppendLine("## Each transport");
        md.AppendLine();
        md.AppendLine("QoS0, one caller, against the full collector (Clickstream.Collector, which decodes every event) in the stub's process:");
        md.AppendLine("the same server for the four, so the ratios compare the transports, not the servers.");
        md.AppendLine();
        md.AppendLine("| transport | runs | events/s (median) | B/event | CPU us/event | gen0 | gen1 | gen2 | x HTTP proto | all delivered |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var http = transports.Count > 0 ? transports[0] : null;
        foreach (var c in transports)
        {
            md.AppendLine(Invariant($"| {c.Contender} | {c.Runs} | {c.EventsPerSecond:N0} | {c.BytesPerEvent:N0} | {c.CpuMicrosecondsPerEvent:N2} | {c.Gen0:0.#} | {c.Gen1:0.#} | {c.Gen2:0.#} | {Ratio(c, http)} | {(c.AllDelivered ? "yes" : "**no**")} |"));
        }

        md.AppendLine();
    }

    private static void ProfileTables(StringBuilder md, SuiteResults results)
    {
        md.AppendLine("## Where the bytes go (EventPipe allocation profile)");
        md.AppendLine();
        md.AppendLine("The runtime's GC events at verbose level (dotnet-trace's `gc-verbose`) from the child process over the measured window,");
        md.AppendLine("written to `BenchmarkDotNet.Artifacts/profiles/<contender>.nettrace` (open it in PerfView or `dotnet-trace convert`);");
        md.AppendLine("`GCAllocationTick` samples (one about every 100 KB) summed by type. Sampled bytes per event estimate each type's share.");
        md.AppendLine();
        foreach (var (measurement, types) in results.Profiles)
        {
            md.AppendLine(Invariant($"**{measurement.Contender}** ({measurement.Events:N0} events, {measurement.BytesPerEvent:N0} B/event measured, gen0/1/2 {measurement.Gen0}/{measurement.Gen1}/{measurement.Gen2}):"));
            md.AppendLine();
            md.AppendLine("| type | share | ~B/event |");
            md.AppendLine("|---|---:|---:|");
            for (var i = 0; i < Math.Min(12, types.Count); i++)
            {
                md.AppendLine(Invariant($"| `` {types[i].Type} `` | {types[i].Share:P1} | {types[i].Share * measurement.BytesPerEvent:N1} |"));
            }

            md.AppendLine();
        }
    }

    private static void CpuProfileTables(StringBuilder md, SuiteResults results)
    {
        md.AppendLine("## Where the time goes (EventPipe CPU samples)");
        md.AppendLine();
        md.AppendLine("The runtime's sample profiler (each managed thread's stack about every millisecond, dotnet-trace's `cpu-sampling`) with the");
        md.AppendLine("JIT, loader and rundown events that name the methods, from the child process over the measured window, written to");
        md.AppendLine("`BenchmarkDotNet.Artifacts/profiles/<contender>.cpu.nettrace` (PerfView, `dotnet-trace convert --format speedscope`).");
        md.AppendLine("Only samples of running threads count: the sampler tags each one `Managed` (CPU, as PerfView's CPU_TIME) or `External`");
        md.AppendLine("(native code); an external sample whose leaf is a wait (thread pool semaphore, monitor, handle, epoll, console read) is");
        md.AppendLine("left out, other external ones (system calls such as `send`) count. Each sample is charged to the component of the");
        md.AppendLine("frame nearest its leaf that belongs to one (so a component includes the framework code it calls); `~us/event` is the");
        md.AppendLine("share times the profiled run's CPU per event. The sampler suspends the runtime to walk the stacks, so time inside a GC");
        md.AppendLine("is not sampled (see the gen0/1/2 counts), and the session itself costs some CPU (compare the two CPU columns).");
        md.AppendLine();
        if (results.CpuProfiles.Count == 0)
        {
            md.AppendLine("Not run.");
            md.AppendLine();
            return;
        }

        md.AppendLine("| contender | events | CPU us/event (profiled run) | CPU us/event (delivery median) | CPU samples | of which native | waiting samples left out (most common waits) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var (measurement, summary) in results.CpuProfiles)
        {
            var median = SuiteResults.Median(results.Delivery, measurement.Contender);
            var waits = string.Join(", ", summary.Waits.Select(w => Invariant($"`` {Cell(w.Name)} `` {w.Share:P0}")));
            md.AppendLine(Invariant(
                $"| {measurement.Contender} | {measurement.Events:N0} | {measurement.CpuMicrosecondsPerEvent:N2} | {(median is null ? "-" : median.CpuMicrosecondsPerEvent.ToString("N2", CultureInfo.InvariantCulture))} | {summary.CpuSamples:N0} | {summary.NativeSamples:N0} | {summary.WaitingSamples:N0} ({waits}) |"));
        }

        md.AppendLine();
        md.AppendLine("By component, share of CPU samples (~us/event):");
        md.AppendLine();
        md.Append("| component |");
        foreach (var (measurement, _) in results.CpuProfiles)
        {
            md.Append(Invariant($" {measurement.Contender} |"));
        }

        md.AppendLine();
        md.Append("|---|");
        md.AppendLine(string.Concat(Enumerable.Repeat("---:|", results.CpuProfiles.Count)));
        foreach (var component in ComponentsByLargestShare(results.CpuProfiles))
        {
            md.Append(Invariant($"| {component} |"));
            foreach (var (measurement, summary) in results.CpuProfiles)
            {
                var share = summary.Components.FirstOrDefault(c => c.Name == component)?.Share ?? 0;
                md.Append(share == 0 ? " - |" : Invariant($" {share:P1} ({share * measurement.CpuMicrosecondsPerEvent:N2}) |"));
            }

            md.AppendLine();
        }

        md.AppendLine();
        foreach (var (measurement, summary) in results.CpuProfiles)
        {
            md.AppendLine(Invariant($"**{measurement.Contender}**, top methods by exclusive share (the leaf frame of each CPU sample):"));
            md.AppendLine();
            md.AppendLine("| method | share |");
            md.AppendLine("|---|---:|");
            foreach (var method in summary.Methods)
            {
                md.AppendLine(Invariant($"| `` {Cell(method.Name)} `` | {method.Share:P1} |"));
            }

            md.AppendLine();
        }
    }

    /// <summary>Every component of the profiles, the one with the largest share in any of them first.</summary>
    private static List<string> ComponentsByLargestShare(List<(Measurement Measurement, CpuProfileSummary Summary)> profiles)
    {
        var largest = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (_, summary) in profiles)
        {
            foreach (var component in summary.Components)
            {
                largest[component.Name] = Math.Max(largest.GetValueOrDefault(component.Name), component.Share);
            }
        }

        var names = new List<string>(largest.Keys);
        names.Sort((a, b) => largest[b] != largest[a] ? largest[b].CompareTo(largest[a]) : string.CompareOrdinal(a, b));
        return names;
    }

    /// <summary>A table cell's text: a <c>|</c> (in local functions' names) would end the cell.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static void TargetsTable(StringBuilder md, List<(string Target, string Measured, bool? Met)> targets, bool heading = true)
    {
        if (heading)
        {
            md.AppendLine("## Targets (issue 6)");
            md.AppendLine();
        }

        md.AppendLine("| target | measured | met |");
        md.AppendLine("|---|---|---|");
        foreach (var (target, measured, met) in targets)
        {
            md.AppendLine($"| {target} | {measured} | {(met is null ? "n/a" : met.Value ? "yes" : "**no**")} |");
        }

        md.AppendLine();
    }

    private static void BenchmarkTable(StringBuilder md, List<BenchmarkRow> rows, string baseline, string ratioName)
    {
        if (rows.Count == 0)
        {
            md.AppendLine("Not run.");
            md.AppendLine();
            return;
        }

        var basis = FindRow(rows, baseline);
        md.AppendLine($"| method | parameters | mean | op/s | allocated B/op | {ratioName} |");
        md.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var ratio = basis is null ? "-" : Invariant($"{row.MeanNanoseconds / basis.MeanNanoseconds:F2}");
            md.AppendLine(Invariant($"| {row.Method} | {row.Parameters} | {FormatTime(row.MeanNanoseconds)} | {row.OperationsPerSecond:N0} | {(row.AllocatedBytes is { } b ? b.ToString("N0", CultureInfo.InvariantCulture) : "-")} | {ratio} |"));
        }

        md.AppendLine();
    }

    private static string FormatTime(double ns) => ns switch
    {
        >= 1e6 => Invariant($"{ns / 1e6:F2} ms"),
        >= 1e3 => Invariant($"{ns / 1e3:F2} us"),
        _ => Invariant($"{ns:F1} ns"),
    };

    private static string Ratio(ContenderSummary c, ContenderSummary? basis) =>
        basis is null ? "-" : Invariant($"{c.EventsPerSecond / basis.EventsPerSecond:F2}");

    private static ContenderSummary? Find(List<ContenderSummary> summaries, string contender) => summaries.Find(s => s.Contender == contender);

    private static BenchmarkRow? FindRow(List<BenchmarkRow> rows, string method) => rows.Find(r => r.Method == method);

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
