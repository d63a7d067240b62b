using System.Diagnostics;
using Clickstream.Cli.CommandLine;
using Clickstream.Cli.Live;
using Clickstream.Collector;
using Clickstream.Pipeline;
using Clickstream.Samples;
using Google.Protobuf;
using Spectre.Console;

namespace Clickstream.Cli.Demo;

/// <summary>
/// Runs the demo: an embedded collector, a pipeline on a fresh temp folder, then a QoS0 phase and a QoS1
/// phase, each tracked by concurrent producers, flushed and timed on its own.
/// </summary>
internal static class DemoRunner
{
    // Clicks are the QoS0 (instant) type; page views, add-to-carts and purchases stay QoS1 (durable).
    private const string InstantType = nameof(Click);

    public static async Task<DemoResult> RunAsync(DemoSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("clickstream-demo-");
        try
        {
            await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false, GrpcPort = settings.Transport == ClickstreamTransport.Grpc ? 0 : null }, cancellationToken);
            var options = new ClickstreamOptions
            {
                Endpoint = TransportNames.EndpointOf(collector, settings.Transport),
                Transport = settings.Transport,
                StoragePath = Path.Combine(folder.FullName, "events.db"),
                MaxBatchSize = settings.BatchSize,
                QueueFullMode = settings.QueueFullMode,

                // Raccoon identifies a client by this header; gRPC calls without it fail, as on Raccoon.
                Headers = { ["X-User-ID"] = "clickstream-demo-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
            options.MaxInMemoryStoredEvents = Math.Max(options.MaxInMemoryStoredEvents, settings.BatchSize);
            options.InstantEventTypes.Add(InstantType);

            console.MarkupLineInterpolated($"Collector: [blue]{options.Endpoint}[/] ({TransportNames.NameOf(settings.Transport)})   store: [blue]{options.StoragePath}[/]");
            console.MarkupLineInterpolated($"QoS0 phase: {settings.InstantEvents:N0} click events; QoS1 phase: {settings.DurableEvents:N0} pageview, addtocart and purchase events.");
            console.MarkupLineInterpolated($"{settings.Producers} producer tasks per phase, batch size {settings.BatchSize}.");

            PhaseResult instant;
            PhaseResult durable;
            await using (var pipeline = ClickstreamPipeline.Create(options))
            {
                var phase = new PhaseRunner(pipeline, collector, settings, console, cancellationToken);
                instant = await phase.RunAsync("QoS0", settings.InstantEvents, SampleEvents.Click);
                var offset = settings.InstantEvents;
                durable = await phase.RunAsync("QoS1", settings.DurableEvents, n => DurableEvent(offset + n));
            }

            return new DemoResult(instant, durable, collector.Stats.Events, collector.Stats.EventsByType());
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException ex)
            {
                console.MarkupLineInterpolated($"[yellow]warning:[/] could not delete {folder.FullName}: {ex.Message}");
            }
        }
    }

    private static IMessage DurableEvent(int n) => (n % 3) switch
    {
        0 => SampleEvents.PageView(n),
        1 => SampleEvents.AddToCart(n),
        _ => SampleEvents.Purchase(n),
    };

    private sealed class PhaseRunner(ClickstreamPipeline pipeline, RaccoonCollector collector, DemoSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        public async Task<PhaseResult> RunAsync(string name, int count, Func<int, IMessage> makeEvent)
        {
            console.MarkupLineInterpolated($"[bold]{name} phase[/]: tracking {count:N0} events...");
            var before = pipeline.GetStatistics();
            var collectorEventsBefore = collector.Stats.Events;
            var collectorTypesBefore = collector.Stats.EventsByType();

            var start = Stopwatch.GetTimestamp();
            var (producers, trackElapsed, flushed) = await LiveStatistics.ShowAsync(console, pipeline, $"{name} phase", count, TrackAndFlushAsync(count, makeEvent), TimeProvider.System);
            var totalElapsed = Stopwatch.GetElapsedTime(start);

            var after = pipeline.GetStatistics();
            var result = new PhaseResult(
                name,
                StatisticsDelta.Between(before, after),
                after.EventsPendingOnDisk,
                producers.Completed,
                producers.Failed,
                producers.FirstError,
                flushed,
                trackElapsed,
                totalElapsed,
                collector.Stats.Events - collectorEventsBefore,
                StatisticsDelta.Between(collectorTypesBefore, collector.Stats.EventsByType()));
            console.MarkupLineInterpolated($"  tracked in {trackElapsed.TotalSeconds:F2} s, flushed after {totalElapsed.TotalSeconds:F2} s{(flushed ? "" : " [red](flush timed out)[/]")}");
            return result;
        }

        private async Task<(Producers Producers, TimeSpan TrackElapsed, bool Flushed)> TrackAndFlushAsync(int count, Func<int, IMessage> makeEvent)
        {
            var start = Stopwatch.GetTimestamp();
            var producers = await Producers.RunAsync(pipeline, count, settings.Producers, makeEvent, cancellationToken);
            var trackElapsed = Stopwatch.GetElapsedTime(start);
            return (producers, trackElapsed, await FlushAsync());
        }

        private async Task<bool> FlushAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.FlushTimeout);
            try
            {
                await pipeline.FlushAsync(timeout.Token);
                return true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }
}
