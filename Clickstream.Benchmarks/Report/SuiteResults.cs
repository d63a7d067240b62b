using Clickstream.Benchmarks.Harness;

namespace Clickstream.Benchmarks.Report;

/// <summary>Everything one run of the suite measured, from which BENCHMARKS.md and the chart are written.</summary>
internal sealed class SuiteResults
{
    public required SuiteOptions Options { get; init; }

    public required DateTime StartedUtc { get; init; }

    public TimeSpan Duration { get; set; }

    /// <summary>Every end-to-end run, in the order run (contenders alternated).</summary>
    public List<Measurement> Delivery { get; } = [];

    public List<Measurement> Transports { get; } = [];

    /// <summary>Profiled runs (the EventPipe session is attached): contender, measurement, top types.</summary>
    public List<(Measurement Measurement, IReadOnlyList<AllocatedType> Types)> Profiles { get; } = [];

    /// <summary>CPU-profiled runs (the sample profiler is attached): measurement, CPU samples by component and method.</summary>
    public List<(Measurement Measurement, CpuProfileSummary Summary)> CpuProfiles { get; } = [];

    public Measurement? BacklogWrite { get; set; }

    public Measurement? BacklogDrain { get; set; }

    /// <summary>BenchmarkDotNet rows: caller cost and durable ingest.</summary>
    public List<BenchmarkRow> CallerCost { get; } = [];

    /// <summary>Rounds of the BenchmarkDotNet classes alternated with the baseline's, each figure their median (1 without a baseline).</summary>
    public int BenchmarkRounds { get; set; } = 1;

    public List<BenchmarkRow> Ingest { get; } = [];

    /// <summary>Every round's rows, caller cost and ingest, before they were reduced to medians.</summary>
    public List<BenchmarkRow> Rounds { get; } = [];

    /// <summary>With <c>--baseline</c>: what the other build measured in this run.</summary>
    public BaselineResults? Baseline { get; set; }

    /// <summary>What went wrong while measuring (a benchmark that failed to run).</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The median of a contender's runs.</summary>
    public static ContenderSummary? Median(IEnumerable<Measurement> runs, string contender)
    {
        var mine = new List<Measurement>();
        foreach (var run in runs)
        {
            if (run.Contender == contender)
            {
                mine.Add(run);
            }
        }

        if (mine.Count == 0)
        {
            return null;
        }

        var delivered = true;
        foreach (var run in mine)
        {
            delivered &= run.Delivered == run.Events;
        }

        return new ContenderSummary(
            contender,
            mine.Count,
            Median(mine, m => m.EventsPerSecond),
            Median(mine, m => m.BytesPerEvent),
            Median(mine, m => m.Gen0),
            Median(mine, m => m.Gen1),
            Median(mine, m => m.Gen2),
            Median(mine, m => m.CpuMicrosecondsPerEvent),
            mine[0].Events,
            delivered);
    }

    private static double Median(List<Measurement> runs, Func<Measurement, double> value)
    {
        var values = new double[runs.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = value(runs[i]);
        }

        Array.Sort(values);
        return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
    }
}

/// <summary>A contender's medians over its runs; <see cref="AllDelivered"/> when the stub counted every event of every run.</summary>
internal sealed record ContenderSummary(
    string Contender, int Runs, double EventsPerSecond, double BytesPerEvent, double Gen0, double Gen1, double Gen2, double CpuMicrosecondsPerEvent, long Events, bool AllDelivered);

/// <summary>One BenchmarkDotNet result: method, parameters, mean per operation, allocated bytes per operation.</summary>
internal sealed record BenchmarkRow(string Method, string Parameters, double MeanNanoseconds, double? AllocatedBytes)
{
    public double OperationsPerSecond => 1e9 / MeanNanoseconds;
}
