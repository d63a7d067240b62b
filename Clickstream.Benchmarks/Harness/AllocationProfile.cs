using System.Diagnostics.Tracing;
using Clickstream.Benchmarks.Support;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// An EventPipe profile of one contender's measured window: the runtime's GC events at verbose level (what
/// dotnet-trace's <c>gc-verbose</c> profile collects) from the child process, written to a <c>.nettrace</c> file,
/// then summed by type from its <c>GCAllocationTick</c> events (one about every 100 KB allocated, naming the type
/// that crossed the mark: a sample, proportional to the bytes each type allocates).
/// </summary>
internal static class AllocationProfile
{
    /// <summary>Runs <paramref name="contender"/> under the profile; the trace is kept at <paramref name="tracePath"/>.</summary>
    public static async Task<(Measurement Measurement, IReadOnlyList<AllocatedType> Types)> RunAsync(
        string contender, int events, StubAddresses stub, string tracePath)
    {
        var providers = new[]
        {
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GC),
        };
        var measurement = await EventPipeRun.RunAsync(contender, events, stub, tracePath, providers);
        return (measurement, Summarise(tracePath));
    }

    /// <summary>Allocation ticks summed by type, largest first.</summary>
    public static IReadOnlyList<AllocatedType> Summarise(string tracePath)
    {
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var source = new EventPipeEventSource(tracePath))
        {
            source.Clr.GCAllocationTick += tick =>
            {
                var type = string.IsNullOrEmpty(tick.TypeName) ? "(unknown)" : tick.TypeName;
                bytes[type] = bytes.GetValueOrDefault(type) + tick.AllocationAmount64;
            };
            source.Process();
        }

        var total = 0L;
        foreach (var value in bytes.Values)
        {
            total += value;
        }

        var types = new List<AllocatedType>(bytes.Count);
        foreach (var (type, value) in bytes)
        {
            types.Add(new AllocatedType(type, value, total == 0 ? 0 : (double)value / total));
        }

        types.Sort((a, b) => b.SampledBytes.CompareTo(a.SampledBytes));
        return types;
    }
}

/// <summary>A type's share of the sampled allocations.</summary>
internal sealed record AllocatedType(string Type, long SampledBytes, double Share);
