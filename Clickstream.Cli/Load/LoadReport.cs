using System.Globalization;
using Clickstream.Pipeline;
using Spectre.Console;

namespace Clickstream.Cli.Load;

/// <summary>What one <c>load</c> run measured.</summary>
internal sealed record LoadRun(
    ClickstreamStatistics Before, long Tracked, long TrackFailed, Exception? FirstError, bool Flushed, TimeSpan TrackElapsed, TimeSpan Elapsed, List<TimeSpan> Latencies)
{
    /// <summary>Times the endpoint was seen going down during the run (<see cref="OutageWatch"/>).</summary>
    public int DownEdges { get; init; }

    /// <summary>Times it was seen coming back.</summary>
    public int UpEdges { get; init; }

    /// <summary>For each up-edge followed by an ack, the time to that first ack, sorted.</summary>
    public List<TimeSpan> UpEdgeToFirstAck { get; init; } = [];
}

/// <summary>The report of a <c>load</c> run: throughput, latency percentiles, and what the pipeline counted going wrong.</summary>
internal sealed class LoadReport(LoadCommand.Settings settings, LoadRun run, ClickstreamStatistics delta, long pendingOnDisk)
{
    /// <summary>Every event tracked was acknowledged.</summary>
    public bool Passed => run.Flushed && run.TrackFailed == 0 && delta.EventsAcknowledged >= settings.Events;

    public void Write(IAnsiConsole console)
    {
        var table = new Table().Title("Load").HideHeaders().AddColumn("").AddColumn(new TableColumn("").RightAligned());
        table.AddRow("events tracked", $"{Count(run.Tracked)} of {Count(settings.Events)} ({Count(run.TrackFailed)} TrackAsync failed)");
        table.AddRow("tracking rate", $"{Rate(run.Tracked, run.TrackElapsed)}/s (asked {Count(settings.Rate)}/s)");
        table.AddRow("events acknowledged", Count(delta.EventsAcknowledged));
        table.AddRow("throughput, acknowledged", $"{Rate(delta.EventsAcknowledged, run.Elapsed)}/s over {Seconds(run.Elapsed)}");
        table.AddRow("latency p50 / p90 / p99 / max", run.Latencies.Count == 0
            ? "-"
            : $"{Ms(50)} / {Ms(90)} / {Ms(99)} / {Ms(100)}");
        if (run.DownEdges > 0)
        {
            table.AddRow("collector outages seen", $"{Count(run.DownEdges)} down, {Count(run.UpEdges)} up again");
            table.AddRow("up-edge to first ack p50 / max", run.UpEdgeToFirstAck.Count == 0
                ? "-"
                : $"{Ms(run.UpEdgeToFirstAck, 50)} / {Ms(run.UpEdgeToFirstAck, 100)} ({run.UpEdgeToFirstAck.Count} up-edges)");
        }

        table.AddRow("batches sent / acknowledged", $"{Count(delta.BatchesSent)} / {Count(delta.BatchesAcknowledged)}");
        table.AddRow("batches failed / retried", $"{Count(delta.BatchesFailed)} / {Count(delta.BatchesRetried)}");
        table.AddRow("events dropped: overflow / send failed / shutdown", $"{Count(delta.EventsDroppedOverflow)} / {Count(delta.EventsDroppedSendFailed)} / {Count(delta.EventsDroppedShutdown)}");
        table.AddRow("events dead-lettered", Count(delta.EventsDeadLettered));
        table.AddRow("pending on disk at the end", Count(pendingOnDisk));
        console.Write(table);
        console.MarkupLine("[grey]Latency: TrackAsync to acknowledged per block of events, from the acknowledged counter sampled every 5 ms.[/]");
        if (run.DownEdges > 0)
        {
            console.MarkupLine("[grey]Outages: the endpoint's port watched by a TCP connect every 20 ms; up-edge to first ack: from the connect that found it back to the first acknowledged count above the one at that moment.[/]");
        }

        if (Passed)
        {
            console.MarkupLineInterpolated($"[green]OK[/]: all {settings.Events:N0} events were acknowledged.");
        }
        else
        {
            var why = !run.Flushed ? $"FlushAsync did not complete within --flush-timeout {settings.FlushTimeoutSeconds} s"
                : run.TrackFailed > 0 ? $"{run.TrackFailed:N0} TrackAsync calls threw; the first: {run.FirstError?.Message}"
                : $"{settings.Events - delta.EventsAcknowledged:N0} events were not acknowledged";
            console.MarkupLineInterpolated($"[red]FAILED[/]: {why}.");
        }
    }

    private string Ms(double percentile) => Ms(run.Latencies, percentile);

    private static string Ms(List<TimeSpan> sorted, double percentile) =>
        LatencyEstimate.Percentile(sorted, percentile).TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Rate(long events, TimeSpan elapsed) =>
        elapsed > TimeSpan.Zero ? (events / elapsed.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture) : "-";

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";
}
