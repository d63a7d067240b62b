using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Clickstream.Cli.CommandLine;
using Clickstream.Cli.Demo;
using Clickstream.Cli.Live;
using Clickstream.Pipeline;
using Clickstream.Samples;
using Google.Protobuf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Clickstream.Cli.Load;

/// <summary>
/// <c>load</c>: drives a running collector (ours or a Raccoon deployment) with a real pipeline at a fixed rate,
/// then reports throughput, latency percentiles (TrackAsync to acknowledged, see <see cref="LatencyEstimate"/>)
/// and the failures, retries and drops the pipeline counted; for a collector that goes down and comes back during the
/// run (<see cref="OutageWatch"/>), the time from each up-edge to the first acknowledged request. The endpoint is probed
/// first (a TCP connect), so an unreachable one is an error within <see cref="ProbeTimeout"/>, not a run that waits for
/// its flush timeout.
/// </summary>
internal sealed class LoadCommand(IAnsiConsole console) : AsyncCommand<LoadCommand.Settings>
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>The options of <c>load</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--endpoint <URL>", isRequired: true)]
        [Description("The collector: http(s)://host:port/api/v1/events for http and http-json, ws(s)://host:port/api/v1/events for websocket, http(s)://host:port for grpc.")]
        public string Endpoint { get; init; } = "";

        [CommandOption("--events <N>")]
        [Description("Events to track.")]
        [DefaultValue(10_000)]
        [TypeConverter(typeof(CountConverter))]
        public int Events { get; init; } = 10_000;

        [CommandOption("--rate <EVENTS_PER_SECOND>")]
        [Description("Events tracked per second, over all producers.")]
        [DefaultValue(1_000)]
        [TypeConverter(typeof(CountConverter))]
        public int Rate { get; init; } = 1_000;

        [CommandOption("--transport <TRANSPORT>")]
        [Description("Protocol: " + TransportNames.Describe + ".")]
        [DefaultValue("http")]
        public string Transport { get; init; } = "http";

        [CommandOption("--qos <0|1>")]
        [Description("0: clicks, kept in memory (at most once); 1: page views, committed to a store in a temp folder first (at least once).")]
        [DefaultValue(1)]
        public int Qos { get; init; } = 1;

        [CommandOption("--producers <N>")]
        [Description("Concurrent tasks calling TrackAsync.")]
        [DefaultValue(4)]
        [TypeConverter(typeof(CountConverter))]
        public int Producers { get; init; } = 4;

        [CommandOption("--batch-size <N>")]
        [Description("Events per request (MaxBatchSize).")]
        [DefaultValue(500)]
        [TypeConverter(typeof(CountConverter))]
        public int BatchSize { get; init; } = 500;

        [CommandOption("--flush-timeout <SECONDS>")]
        [Description("Longest wait, once every event is tracked, for the last ones to be acknowledged.")]
        [DefaultValue(60)]
        [TypeConverter(typeof(CountConverter))]
        public int FlushTimeoutSeconds { get; init; } = 60;

        public Uri EndpointUri => new(Endpoint, UriKind.Absolute);

        public override ValidationResult Validate() => new Checks()
            .That(Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "ws" or "wss",
                $"--endpoint must be an absolute http(s) or ws(s) URL; was '{Endpoint}'.")
            .Range("--events", Events, 1, 100_000_000)
            .Range("--rate", Rate, 1, 10_000_000)
            .Check("--transport", Transport)
            .Range("--qos", Qos, 0, 1)
            .Range("--producers", Producers, 1, 10_000)
            .Range("--batch-size", BatchSize, 1, 100_000)
            .Range("--flush-timeout", FlushTimeoutSeconds, 1, 86_400)
            .Result();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var endpoint = settings.EndpointUri;
        await ProbeAsync(endpoint, cancellationToken);

        var time = TimeProvider.System;
        var folder = Directory.CreateTempSubdirectory("clickstream-load-");
        try
        {
            var options = new ClickstreamOptions
            {
                Endpoint = endpoint,
                Transport = TransportNames.Parse(settings.Transport),
                StoragePath = Path.Combine(folder.FullName, "events.db"),
                MaxBatchSize = settings.BatchSize,
                ShutdownTimeout = TimeSpan.Zero,
                Headers = { ["X-User-ID"] = "clickstream-load-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) },
            };
            options.MaxInMemoryStoredEvents = Math.Max(options.MaxInMemoryStoredEvents, settings.BatchSize);
            Func<int, IMessage> makeEvent = settings.Qos == 0 ? SampleEvents.Click : n => SampleEvents.PageView(n);
            if (settings.Qos == 0)
            {
                options.InstantEventTypes.Add(nameof(Click));
            }

            console.MarkupLineInterpolated($"Load: {settings.Events:N0} QoS{settings.Qos} events at {settings.Rate:N0}/s to [blue]{endpoint}[/] ({settings.Transport}), {settings.Producers} producers, batch size {settings.BatchSize}.");
            await using var pipeline = ClickstreamPipeline.Create(options);
            var run = await LiveStatistics.ShowAsync(console, pipeline, "load", settings.Events, RunAsync(pipeline, settings, makeEvent, time, cancellationToken), time);
            var report = new LoadReport(settings, run, StatisticsDelta.Between(run.Before, pipeline.GetStatistics()), pipeline.GetStatistics().EventsPendingOnDisk);
            report.Write(console);
            return report.Passed ? ExitCodes.Success : ExitCodes.Failure;
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

    /// <summary>A TCP connect to the endpoint's host and port, bounded by <see cref="ProbeTimeout"/>.</summary>
    private static async Task ProbeAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"--endpoint {endpoint} is unreachable: no TCP connection to {endpoint.Host}:{endpoint.Port} within {ProbeTimeout.TotalSeconds:F0} s.");
        }
        catch (SocketException ex)
        {
            throw new CliException(ExitCodes.Unreachable, $"--endpoint {endpoint} is unreachable: {endpoint.Host}:{endpoint.Port}: {ex.Message}.", ex);
        }
    }

    private static async Task<LoadRun> RunAsync(ClickstreamPipeline pipeline, Settings settings, Func<int, IMessage> makeEvent, TimeProvider time, CancellationToken cancellationToken)
    {
        var before = pipeline.GetStatistics();
        var latency = new LatencyEstimate();
        var watch = new OutageWatch(settings.EndpointUri, time);
        var start = time.GetTimestamp();
        var producers = PacedProducers.Start(pipeline, settings.Events, settings.Rate, settings.Producers, makeEvent, time, cancellationToken, out var producing);

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampling = SampleAsync(pipeline, before.EventsAcknowledged, latency, time, stopSampling.Token);
        var watching = watch.RunAsync(stopSampling.Token);

        await producing;
        var trackElapsed = time.GetElapsedTime(start);
        var flushed = true;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(settings.FlushTimeoutSeconds));
            try
            {
                await pipeline.FlushAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                flushed = false;
            }
        }

        var elapsed = time.GetElapsedTime(start);
        await stopSampling.CancelAsync();
        await sampling;
        await watching;
        latency.Add(time.GetTimestamp(), pipeline.GetStatistics().EventsAcknowledged - before.EventsAcknowledged);
        var latencies = latency.Latencies(producers.BlockStarts, producers.BlockSize, settings.Events, time);
        var upEdges = watch.UpEdges;
        var recoveries = latency.FirstAcksAfter(upEdges, time);
        return new LoadRun(before, producers.Completed, producers.Failed, producers.FirstError, flushed, trackElapsed, elapsed, latencies)
        {
            DownEdges = watch.DownEdges,
            UpEdges = upEdges.Length,
            UpEdgeToFirstAck = recoveries,
        };
    }

    private static async Task SampleAsync(ClickstreamPipeline pipeline, long baseline, LatencyEstimate latency, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(SampleInterval, time);
        try
        {
            do
            {
                latency.Add(time.GetTimestamp(), pipeline.GetStatistics().EventsAcknowledged - baseline);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
