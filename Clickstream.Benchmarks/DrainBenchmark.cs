using System.Diagnostics;
using System.Globalization;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Samples;

namespace Clickstream.Benchmarks;

/// <summary>
/// Backlog drain, a whole-process measure rather than a BenchmarkDotNet one: N QoS1 events are stored while
/// delivery is paused (as while the collector is down), the pipeline is closed, and a new pipeline on the same
/// file delivers them to the loopback stub collector (its own process, so its memory is not counted). Prints the time until every event is acknowledged and the working
/// set sampled every 5 ms while draining.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project Clickstream.Benchmarks -- --drain [events]</c> (1,000,000 by default).
/// The fill runs in the same process before the drain; memory is collected and given back to the OS in between,
/// so the peak sampled is the drain's.
/// </remarks>
internal static class DrainBenchmark
{
    public const string Flag = "--drain";

    public static async Task<int> RunAsync(int events)
    {
        await using var fixture = await PipelineFixture.StartAsync();
        var path = fixture.FilePath("drain");
        var fill = Stopwatch.StartNew();
        await using (var writer = fixture.CreatePipeline("drain"))
        {
            writer.Pause();
            await QoS1Ingest.ProduceAsync(writer, SampleEvents.PageView(1), events, producers: 64);
        }

        fill.Stop();
        var fileBytes = new FileInfo(path).Length;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();

        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.WorkingSet64;
        long peak = before;
        long peakManaged = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(
            async () =>
            {
                using var self = Process.GetCurrentProcess();
                while (!sampling.IsCancellationRequested)
                {
                    self.Refresh();
                    peak = Math.Max(peak, self.WorkingSet64);
                    peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(forceFullCollection: false));
                    try
                    {
                        await Task.Delay(5, sampling.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            },
            CancellationToken.None);

        var drain = Stopwatch.StartNew();
        ClickstreamStatistics statistics;
        await using (var reader = fixture.CreatePipeline("drain"))
        {
            await reader.FlushAsync();
            drain.Stop();
            statistics = reader.GetStatistics();
        }

        await sampling.CancelAsync();
        await sampler;

        var ok = statistics.EventsRecovered == events && statistics.EventsPendingOnDisk == 0 && statistics.EventsAcknowledged >= events;
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine(string.Format(culture, "| events on disk | {0:N0} |", events));
        Console.WriteLine(string.Format(culture, "| fill (QoS1 ingest, 64 producers, paused) | {0:N2} s ({1:N0} events/s) |", fill.Elapsed.TotalSeconds, events / fill.Elapsed.TotalSeconds));
        Console.WriteLine(string.Format(culture, "| store file after fill | {0:N1} MB |", fileBytes / 1e6));
        Console.WriteLine(string.Format(culture, "| drain until all acknowledged | {0:N2} s ({1:N0} events/s) |", drain.Elapsed.TotalSeconds, events / drain.Elapsed.TotalSeconds));
        Console.WriteLine(string.Format(culture, "| working set before drain | {0:N1} MB |", before / 1e6));
        Console.WriteLine(string.Format(culture, "| peak working set while draining (5 ms samples) | {0:N1} MB |", peak / 1e6));
        Console.WriteLine(string.Format(culture, "| peak managed heap while draining (same samples) | {0:N1} MB |", peakManaged / 1e6));
        Console.WriteLine(string.Format(culture, "| recovered / acknowledged / pending after | {0:N0} / {1:N0} / {2:N0} |", statistics.EventsRecovered, statistics.EventsAcknowledged, statistics.EventsPendingOnDisk));
        Console.WriteLine(ok ? "// drain: OK" : $"// drain: FAILED, not every event was recovered and acknowledged: {statistics}");
        return ok ? 0 : 1;
    }
}
