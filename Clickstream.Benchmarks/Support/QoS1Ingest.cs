using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Clickstream.Pipeline;
using Clickstream.Samples;

namespace Clickstream.Benchmarks.Support;

/// <summary>
/// What the QoS1 ingest benchmarks share: concurrent callers each awaiting TrackAsync, and delivering what a
/// paused pipeline stored (unmeasured) with a check that every event was stored and delivered.
/// </summary>
internal static class QoS1Ingest
{
    /// <summary><paramref name="events"/> TrackAsync calls in all, made by <paramref name="producers"/> concurrent callers.</summary>
    public static Task ProduceAsync(ClickstreamPipeline pipeline, PageView @event, int events, int producers) =>
        ProduceAsync(pipeline, [@event], events, producers);

    /// <summary>The same, cycling through <paramref name="sample"/>.</summary>
    public static Task ProduceAsync(ClickstreamPipeline pipeline, PageView[] sample, int events, int producers)
    {
        var remaining = events;
        var tasks = new Task[producers];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = ProduceOneAsync();
        }

        return Task.WhenAll(tasks);

        async Task ProduceOneAsync()
        {
            int i;
            while ((i = Interlocked.Decrement(ref remaining)) >= 0)
            {
                await pipeline.TrackAsync(sample[i % sample.Length]);
            }
        }
    }

    /// <summary>Resumes delivery, waits until the stored events are delivered, and checks none was lost.</summary>
    public static void DeliverStored(ClickstreamPipeline pipeline)
    {
        pipeline.Resume();
        pipeline.FlushAsync().GetAwaiter().GetResult();
        var statistics = pipeline.GetStatistics();
        if (statistics.EventsStored != statistics.DurableEventsTracked || statistics.EventsPendingOnDisk != 0)
        {
            throw new InvalidOperationException($"The pipeline did not store and deliver every event it was given: {statistics}");
        }
    }
}

/// <summary>Adds Op/s, so that benchmarks reporting per event (OperationsPerInvoke) show events per second.</summary>
internal sealed class EventsPerSecondConfig : ManualConfig
{
    public EventsPerSecondConfig() => AddColumn(StatisticColumn.OperationsPerSecond);
}
