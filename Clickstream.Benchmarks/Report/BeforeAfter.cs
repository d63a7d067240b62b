using System.Globalization;
using System.Text;
using Clickstream.Benchmarks.Harness;

namespace Clickstream.Benchmarks.Report;

/// <summary>
/// BENCHMARKS.md's "Before / after" section (with <c>--baseline</c>): one row per measure, the baseline's figure, this
/// build's, their ratio and whether it is better. Every ratio to a peer (OpenTelemetry, the raw limit) divides by the
/// peer's median of this same run, for the baseline's figure as for this build's.
/// </summary>
internal static class BeforeAfter
{
    public const string Heading = "## Before / after";

    /// <summary>
    /// Without runs to compare, within this much of 1 a ratio is reported as the same: the shared machine's noise is
    /// larger.
    /// </summary>
    private const double Same = 0.02;

    /// <summary>
    /// A measure: both builds' medians, and, where the suite ran it more than once, each run's figure. With runs, the
    /// verdict is "better" or "worse" only when every run of one build beats every run of the other.
    /// </summary>
    private sealed record Row(
        string Measure, double? Before, double? After, bool HigherIsBetter, string Format, double[]? BeforeRuns = null, double[]? AfterRuns = null);

    public static void Write(StringBuilder md, SuiteResults results)
    {
        if (results.Baseline is not { } baseline)
        {
            return;
        }

        md.AppendLine(Heading);
        md.AppendLine();
        md.AppendLine(Invariant($"- **Before**: `{baseline.Assembly}`{(baseline.Commit is null ? string.Empty : $" (commit {baseline.Commit})")}"));
        md.AppendLine(Invariant($"- **After**: this build, `{typeof(BeforeAfter).Assembly.Location}`{(baseline.AfterCommit is null ? string.Empty : $" (commit {baseline.AfterCommit})")}"));
        md.AppendLine();
        md.AppendLine("Both in this run: the baseline's `pipeline-qos0` and `pipeline-qos1` children ran against the same stub, alternated with");
        md.AppendLine("this build's (which of the two goes first switches every run), medians of as many runs; the ratios to OpenTelemetry and");
        md.AppendLine("to the raw limit divide both builds' figures by this run's peer medians. The backlog was written and drained by each");
        md.AppendLine("build in its own folder, one after the other; caller cost and ingest come from the baseline's own");
        md.AppendLine(Invariant($"`report --only benchmarks` (the same BenchmarkDotNet job), {results.BenchmarkRounds} rounds alternated with this build's, medians. `after/before` is the ratio"));
        md.AppendLine("of the medians. A verdict compares the runs: better or worse only when every run of one build is past every run");
        md.AppendLine(Invariant($"of the other, otherwise the same, with both spreads; a measure run once (the drain) is the same within {Same:P0}."));
        md.AppendLine();
        md.AppendLine("| measure | before | after | after/before | |");
        md.AppendLine("|---|---:|---:|---:|---|");
        foreach (var row in Rows(results, baseline))
        {
            md.AppendLine(Invariant($"| {row.Measure} | {Figure(row.Before, row.Format)} | {Figure(row.After, row.Format)} | {Ratio(row)} | {Verdict(row)} |"));
        }

        md.AppendLine();
    }

    private static IEnumerable<Row> Rows(SuiteResults results, BaselineResults baseline)
    {
        var otel = SuiteResults.Median(results.Delivery, Contenders.OpenTelemetry);
        var raw1 = SuiteResults.Median(results.Delivery, Contenders.Raw1);
        var qos0 = (Before: SuiteResults.Median(baseline.Delivery, Contenders.PipelineQoS0), After: SuiteResults.Median(results.Delivery, Contenders.PipelineQoS0));
        var qos1 = (Before: SuiteResults.Median(baseline.Delivery, Contenders.PipelineQoS1), After: SuiteResults.Median(results.Delivery, Contenders.PipelineQoS1));
        double[] Runs(List<Measurement> runs, string contender, Func<Measurement, double> figure) =>
            [.. runs.Where(r => r.Contender == contender).Select(figure)];
        Row Delivery(string measure, string contender, Func<Measurement, double> figure, bool higherIsBetter, string format, double? before, double? after) =>
            new(measure, before, after, higherIsBetter, format, Runs(baseline.Delivery, contender, figure), Runs(results.Delivery, contender, figure));

        yield return Delivery("QoS0 end to end, events/s", Contenders.PipelineQoS0, m => m.EventsPerSecond, true, "N0", qos0.Before?.EventsPerSecond, qos0.After?.EventsPerSecond);
        yield return Delivery("QoS0 end to end, CPU us/event", Contenders.PipelineQoS0, m => m.CpuMicrosecondsPerEvent, false, "N2", qos0.Before?.CpuMicrosecondsPerEvent, qos0.After?.CpuMicrosecondsPerEvent);
        yield return Delivery("QoS0 end to end, B/event", Contenders.PipelineQoS0, m => m.BytesPerEvent, false, "N0", qos0.Before?.BytesPerEvent, qos0.After?.BytesPerEvent);
        yield return Delivery("QoS0 end to end, x OpenTelemetry", Contenders.PipelineQoS0, m => m.EventsPerSecond / (otel?.EventsPerSecond ?? double.NaN), true, "F2", Per(qos0.Before, otel), Per(qos0.After, otel));
        yield return Delivery("QoS0 end to end, x raw 1 connection", Contenders.PipelineQoS0, m => m.EventsPerSecond / (raw1?.EventsPerSecond ?? double.NaN), true, "F2", Per(qos0.Before, raw1), Per(qos0.After, raw1));

        foreach (var qos in (string[])["QoS0", "QoS1"])
        {
            var method = "TrackAsync" + qos;
            var before = Find(baseline.CallerCost, method);
            var after = Find(results.CallerCost, method);
            yield return new(
                $"Caller cost, {qos} `TrackAsync`, ns", before?.MeanNanoseconds, after?.MeanNanoseconds, false, "N1", Rounds(baseline.Rounds, method, r => r.MeanNanoseconds), Rounds(results.Rounds, method, r => r.MeanNanoseconds));
            yield return new(
                $"Caller cost, {qos} `TrackAsync`, B allocated (process-wide)", before?.AllocatedBytes, after?.AllocatedBytes, false, "N0", Rounds(baseline.Rounds, method, r => r.AllocatedBytes ?? double.NaN), Rounds(results.Rounds, method, r => r.AllocatedBytes ?? double.NaN));
        }

        foreach (var producers in (int[])[1, 8, 64])
        {
            var method = Invariant($"PipelineQoS1Producers{producers}");
            yield return new(
                Invariant($"QoS1 durable ingest, {producers} producer{(producers == 1 ? string.Empty : "s")}, events/s"),
                Find(baseline.Ingest, method)?.OperationsPerSecond,
                Find(results.Ingest, method)?.OperationsPerSecond,
                true,
                "N0",
                Rounds(baseline.Rounds, method, r => r.OperationsPerSecond),
                Rounds(results.Rounds, method, r => r.OperationsPerSecond));
        }

        yield return Delivery("QoS1 end to end, events/s", Contenders.PipelineQoS1, m => m.EventsPerSecond, true, "N0", qos1.Before?.EventsPerSecond, qos1.After?.EventsPerSecond);
        yield return Delivery("QoS1 end to end, CPU us/event", Contenders.PipelineQoS1, m => m.CpuMicrosecondsPerEvent, false, "N2", qos1.Before?.CpuMicrosecondsPerEvent, qos1.After?.CpuMicrosecondsPerEvent);
        yield return Delivery("QoS1 end to end, x OpenTelemetry", Contenders.PipelineQoS1, m => m.EventsPerSecond / (otel?.EventsPerSecond ?? double.NaN), true, "F2", Per(qos1.Before, otel), Per(qos1.After, otel));

        var (drainBefore, drainAfter) = (baseline.BacklogDrain, results.BacklogDrain);
        var events = (drainAfter ?? drainBefore)?.Events;
        var drained = events is null ? "Backlog drain" : Invariant($"Backlog drain of {events:N0}");
        yield return new($"{drained}, seconds", drainBefore?.Seconds, drainAfter?.Seconds, false, "F1");
        yield return new($"{drained}, events/s", DrainRate(drainBefore), DrainRate(drainAfter), true, "N0");
        yield return new($"{drained}, peak working set MB", drainBefore?.PeakWorkingSetMB, drainAfter?.PeakWorkingSetMB, false, "N0");
    }

    /// <summary>Where the baseline did not deliver everything (its runs are then void, as this build's would be).</summary>
    public static IEnumerable<string> Problems(BaselineResults baseline)
    {
        foreach (var contender in Baseline.Delivery)
        {
            if (SuiteResults.Median(baseline.Delivery, contender) is { AllDelivered: false })
            {
                yield return $"before {contender}: the stub did not count every event of every run.";
            }
        }

        if (baseline.BacklogDrain is { } drain && drain.Delivered < drain.Events)
        {
            yield return $"before backlog drain: {drain.Delivered} of {drain.Events} events acknowledged before the time limit.";
        }
    }

    private static double? Per(ContenderSummary? contender, ContenderSummary? peer) =>
        contender is null || peer is null ? null : contender.EventsPerSecond / peer.EventsPerSecond;

    private static double? DrainRate(Measurement? drain) => drain is null ? null : drain.Delivered / drain.Seconds;

    private static BenchmarkRow? Find(List<BenchmarkRow> rows, string method) => rows.Find(r => r.Method == method);

    private static double[] Rounds(List<BenchmarkRow> rows, string method, Func<BenchmarkRow, double> figure) =>
        [.. rows.Where(r => r.Method == method).Select(figure)];

    private static string Figure(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static double? Quotient(Row row) =>
        row.Before is { } b && row.After is { } a && b > 0 && !double.IsNaN(a) ? a / b : null;

    private static string Ratio(Row row) => Quotient(row) is { } r ? Invariant($"{r:F2}") : "-";

    private static string Verdict(Row row)
    {
        if (Quotient(row) is not { } r)
        {
            return row.Before == 0 && row.After == 0 ? "same" : "-";
        }

        if (row is { BeforeRuns: { Length: > 1 } before, AfterRuns: { Length: > 1 } after } && !before.Any(double.IsNaN) && !after.Any(double.IsNaN))
        {
            // Every run of one build past every run of the other; otherwise the difference is inside this run's spread.
            var afterAbove = after.Min() > before.Max();
            if (afterAbove || after.Max() < before.Min())
            {
                return afterAbove == row.HigherIsBetter ? "better" : "**worse**";
            }

            return Invariant($"same (runs overlap: before {Spread(before, row.Format)}, after {Spread(after, row.Format)})");
        }

        if (Math.Abs(r - 1) < Same)
        {
            return "same";
        }

        return r > 1 == row.HigherIsBetter ? "better" : "**worse**";
    }

    private static string Spread(double[] runs, string format) =>
        Invariant($"{runs.Min().ToString(format, CultureInfo.InvariantCulture)}-{runs.Max().ToString(format, CultureInfo.InvariantCulture)}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
