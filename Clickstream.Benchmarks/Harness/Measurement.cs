using System.Globalization;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// One measured run in a child process: events delivered in a time, what the process allocated meanwhile
/// (<see cref="GC.GetTotalAllocatedBytes(bool)"/> delta) and its collections; printed as one line
/// (<see cref="Format"/>) that the parent reads back (<see cref="TryParse"/>).
/// </summary>
internal sealed record Measurement(
    string Contender, long Events, double Seconds, long AllocatedBytes, int Gen0, int Gen1, int Gen2, long Delivered, double CpuSeconds, double PeakWorkingSetMB = 0, double PeakHeapMB = 0, double PeakHeapAfterGcMB = 0)
{
    private const string Prefix = "MEASUREMENT ";

    public double EventsPerSecond => Events / Seconds;

    public double BytesPerEvent => (double)AllocatedBytes / Events;

    /// <summary>The process's CPU time (user + system, all threads) per event: less noisy than wall time on a shared machine.</summary>
    public double CpuMicrosecondsPerEvent => CpuSeconds * 1e6 / Events;

    public string Format() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Prefix}{Contender} {Events} {Seconds:R} {AllocatedBytes} {Gen0} {Gen1} {Gen2} {Delivered} {CpuSeconds:R} {PeakWorkingSetMB:R} {PeakHeapMB:R} {PeakHeapAfterGcMB:R}");

    public static bool TryParse(string line, out Measurement? measurement)
    {
        measurement = null;
        if (!line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        // Another build's child (a baseline) may print another layout: not a measurement, rather than an exception.
        var f = line[Prefix.Length..].Split(' ');
        if (f.Length != 12)
        {
            return false;
        }

        var c = CultureInfo.InvariantCulture;
        measurement = new Measurement(
            f[0], long.Parse(f[1], c), double.Parse(f[2], c), long.Parse(f[3], c), int.Parse(f[4], c), int.Parse(f[5], c), int.Parse(f[6], c), long.Parse(f[7], c), double.Parse(f[8], c), double.Parse(f[9], c), double.Parse(f[10], c), double.Parse(f[11], c));
        return true;
    }
}

/// <summary>Process-wide allocation and collection counters, read before and after a measured run.</summary>
internal readonly record struct GcSnapshot(long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan Cpu, long Timestamp)
{
    public static GcSnapshot Take() => new(
        GC.GetTotalAllocatedBytes(precise: true),
        GC.CollectionCount(0),
        GC.CollectionCount(1),
        GC.CollectionCount(2),
        Environment.CpuUsage.TotalTime,
        System.Diagnostics.Stopwatch.GetTimestamp());

    public Measurement Until(GcSnapshot end, string contender, long events, long delivered) => new(
        contender,
        events,
        System.Diagnostics.Stopwatch.GetElapsedTime(Timestamp, end.Timestamp).TotalSeconds,
        end.Allocated - Allocated,
        end.Gen0 - Gen0,
        end.Gen1 - Gen1,
        end.Gen2 - Gen2,
        delivered,
        (end.Cpu - Cpu).TotalSeconds);
}
