using System.Diagnostics.Tracing;
using Clickstream.Benchmarks.Support;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.EventPipe;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// An EventPipe CPU profile of one contender's measured window: the runtime's sample profiler (every managed thread's
/// stack about every millisecond, what dotnet-trace's <c>cpu-sampling</c> profile collects) with the loader and JIT
/// events and the rundown that name the methods, written to a <c>.nettrace</c> file; then the samples of threads that
/// were running (<see cref="CpuComponents.IsCpu"/>) are charged to components and to their leaf methods.
/// </summary>
internal static class CpuProfile
{
    /// <summary>The most methods kept in a summary.</summary>
    public const int TopMethods = 12;

    /// <summary>Runs <paramref name="contender"/> under the profile; the trace is kept at <paramref name="tracePath"/>.</summary>
    public static async Task<(Measurement Measurement, CpuProfileSummary Summary)> RunAsync(
        string contender, int events, StubAddresses stub, string tracePath, string? folder = null)
    {
        var providers = new[]
        {
            new EventPipeProvider(SampleProfilerTraceEventParser.ProviderName, EventLevel.Informational),
            new EventPipeProvider(
                ClrTraceEventParser.ProviderName,
                EventLevel.Verbose,
                (long)(ClrTraceEventParser.Keywords.Loader | ClrTraceEventParser.Keywords.Jit)),
        };
        var measurement = await EventPipeRun.RunAsync(contender, events, stub, tracePath, providers, folder);
        return (measurement, Summarise(tracePath));
    }

    /// <summary>The trace's thread samples: running ones by component and by leaf method, largest first.</summary>
    public static CpuProfileSummary Summarise(string tracePath)
    {
        CpuComponents.Check();
        var components = new Dictionary<string, int>(StringComparer.Ordinal);
        var methods = new Dictionary<string, int>(StringComparer.Ordinal);
        var waits = new Dictionary<string, int>(StringComparer.Ordinal);
        int cpu = 0, native = 0, waiting = 0;
        var frames = new List<string>();

        var etlx = Path.ChangeExtension(tracePath, ".etlx");
        try
        {
            TraceLog.CreateFromEventPipeDataFile(tracePath, etlx);
            using var log = new TraceLog(etlx);
            var source = log.Events.GetSource();
            var samples = new SampleProfilerTraceEventParser(source);
            samples.ThreadSample += sample =>
            {
                frames.Clear();
                for (var stack = sample.CallStack(); stack is not null; stack = stack.Caller)
                {
                    frames.Add(FrameName(stack.CodeAddress));
                }

                var managed = sample.Type == ClrThreadSampleType.Managed;
                var leafIndex = CpuComponents.LeafIndex(frames);
                var leaf = leafIndex >= frames.Count ? CpuComponents.NoFrame
                    : frames[leafIndex] == "?" && leafIndex + 1 < frames.Count ? "(unnamed stub) called by " + CpuComponents.MethodName(frames[leafIndex + 1])
                    : CpuComponents.MethodName(frames[leafIndex]);
                if (!CpuComponents.IsCpu(managed, frames))
                {
                    waiting++;
                    Add(waits, leaf);
                    return;
                }

                cpu++;
                native += managed ? 0 : 1;
                Add(components, CpuComponents.ComponentOf(frames));
                Add(methods, leaf);
            };
            source.Process();
        }
        finally
        {
            File.Delete(etlx);
        }

        return new CpuProfileSummary(cpu, native, waiting, Shares(components, cpu, int.MaxValue), Shares(methods, cpu, TopMethods), Shares(waits, waiting, 3));
    }

    private static string FrameName(TraceCodeAddress? address)
    {
        if (address is null)
        {
            return "?";
        }

        var method = address.FullMethodName;
        if (!string.IsNullOrEmpty(method) && method != "?")
        {
            return method;
        }

        return string.IsNullOrEmpty(address.ModuleName) ? "?" : address.ModuleName + "!?";
    }

    private static void Add(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    private static List<CpuShare> Shares(Dictionary<string, int> counts, int total, int top)
    {
        var shares = new List<CpuShare>(counts.Count);
        foreach (var (name, samples) in counts)
        {
            shares.Add(new CpuShare(name, samples, total == 0 ? 0 : (double)samples / total));
        }

        shares.Sort((a, b) => b.Samples != a.Samples ? b.Samples.CompareTo(a.Samples) : string.CompareOrdinal(a.Name, b.Name));
        return shares.Count > top ? shares.GetRange(0, top) : shares;
    }
}

/// <summary>
/// One CPU profile: <see cref="CpuSamples"/> samples of running threads (<see cref="NativeSamples"/> of them in
/// native code: system calls, runtime helpers), <see cref="WaitingSamples"/> of waiting threads left out; the running
/// ones by component and by leaf method, the waiting ones by their leaf (the wait), largest first.
/// </summary>
internal sealed record CpuProfileSummary(
    int CpuSamples, int NativeSamples, int WaitingSamples, IReadOnlyList<CpuShare> Components, IReadOnlyList<CpuShare> Methods, IReadOnlyList<CpuShare> Waits);

/// <summary>A component's or a method's samples and share.</summary>
internal sealed record CpuShare(string Name, int Samples, double Share);
