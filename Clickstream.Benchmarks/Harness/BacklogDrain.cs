using System.Diagnostics;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Samples;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// The backlog drain, in two child processes: one writes N QoS1 events to a store while delivery is paused (the
/// collector "down") and disposes the pipeline, leaving them on disk; a fresh process then opens the same store with
/// the stub up and is timed from <c>Create</c> until every event is acknowledged, its working set sampled meanwhile.
/// </summary>
internal static class BacklogDrain
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Sampling = TimeSpan.FromMilliseconds(10);

    private static ClickstreamOptions Options(string folder, StubAddresses stub) => new()
    {
        Endpoint = stub.EventsEndpoint,
        StoragePath = Path.Combine(folder, "events.db"),
        MaxBatchSize = DeliveryRuns.BatchSize,
        MaxTimeBetweenTwoBatches = DeliveryRuns.BatchDelay,

        // Room for the whole backlog: the measure is the drain, not eviction.
        MaxStorageBytes = 4L * 1024 * 1024 * 1024,
        DetectNetworkChanges = false,
    };

    /// <summary>Tracks <paramref name="events"/> QoS1 events with delivery paused, then disposes: they stay on disk.</summary>
    public static async Task<Measurement> WriteAsync(int events, string folder, StubAddresses stub)
    {
        var @event = SampleEvents.PageView(1);
        var pipeline = ClickstreamPipeline.Create(Options(folder, stub));
        ClickstreamStatistics statistics;
        await using (pipeline)
        {
            pipeline.Pause();
            var start = GcSnapshot.Take();
            await QoS1Ingest.ProduceAsync(pipeline, @event, events, DeliveryRuns.QoS1Producers);
            var end = GcSnapshot.Take();
            statistics = pipeline.GetStatistics();
            var written = start.Until(end, Contenders.BacklogWrite, events, statistics.EventsStored - statistics.EventsEvicted);
            if (statistics.EventsAcknowledged != 0)
            {
                throw new InvalidOperationException($"Events were delivered while paused: {statistics}");
            }

            return written;
        }
    }

    /// <summary>Opens the store left by <see cref="WriteAsync"/> with the stub up; timed until all its events are acknowledged.</summary>
    public static async Task<Measurement> DrainAsync(int events, string folder, StubAddresses stub)
    {
        var before = await StubClient.GetCountsAsync(stub.BaseAddress);
        long peakWorkingSet = Environment.WorkingSet;
        long peakHeap = 0;
        long peakHeapAfterGc = 0;
        using var stop = new CancellationTokenSource();

        // Besides the working set: the managed heap as it is (live objects and garbage not yet collected) and as the
        // last GC left it (what survived it): the split between data the drain holds and the GC's headroom.
        void Sample()
        {
            peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
            peakHeapAfterGc = Math.Max(peakHeapAfterGc, GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes);
        }

        var sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Sample();
                Thread.Sleep(Sampling);
            }
        }) { IsBackground = true, Name = "working set sampler" };
        sampler.Start();

        var start = GcSnapshot.Take();
        var pipeline = ClickstreamPipeline.Create(Options(folder, stub));
        await using (pipeline)
        {
            var deadline = Stopwatch.StartNew();
            while (pipeline.GetStatistics().EventsAcknowledged < events && deadline.Elapsed < DrainTimeout)
            {
                await Task.Delay(Sampling);
            }

            var end = GcSnapshot.Take();
            await stop.CancelAsync();
            sampler.Join();
            var after = await StubClient.GetCountsAsync(stub.BaseAddress);
            var drained = start.Until(end, Contenders.BacklogDrain, events, after.Events - before.Events);
            Sample();
            const double MB = 1024.0 * 1024.0;
            return drained with { PeakWorkingSetMB = peakWorkingSet / MB, PeakHeapMB = peakHeap / MB, PeakHeapAfterGcMB = peakHeapAfterGc / MB };
        }
    }
}
