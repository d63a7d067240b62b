using System.Globalization;
using Spectre.Console;

namespace Clickstream.Cli.Demo;

/// <summary>Renders a <see cref="DemoResult"/> as two tables: the pipeline's counters per phase, and what the collector received per type.</summary>
internal static class DemoReport
{
    public static void Write(IAnsiConsole console, DemoResult result)
    {
        PhaseResult[] phases = [result.Instant, result.Durable];

        var pipeline = new Table().Title("Pipeline counters per phase").AddColumn("");
        foreach (var phase in phases)
        {
            pipeline.AddColumn(new TableColumn(Markup.Escape(phase.Name)).RightAligned());
        }

        AddRow(pipeline, phases, "Events tracked", p => Count(p.Tracked));
        AddRow(pipeline, phases, "  TrackAsync failed", p => Count(p.TrackFailed));
        AddRow(pipeline, phases, "Events stored (LiteDB)", p => Count(p.Pipeline.EventsStored));
        AddRow(pipeline, phases, "  group commits", p => Count(p.Pipeline.StoreCommits));
        AddRow(pipeline, phases, "Events sent", p => Count(p.Pipeline.EventsSent));
        AddRow(pipeline, phases, "Events acknowledged", p => Count(p.Pipeline.EventsAcknowledged));
        AddRow(pipeline, phases, "Events dropped", p => Count(p.Dropped));
        AddRow(pipeline, phases, "  overflow / send failed", p => $"{Count(p.Pipeline.EventsDroppedOverflow)} / {Count(p.Pipeline.EventsDroppedSendFailed)}");
        AddRow(pipeline, phases, "Pending on disk at the end", p => Count(p.PendingOnDisk));
        AddRow(pipeline, phases, "Batches sent", p => Count(p.Pipeline.BatchesSent));
        AddRow(pipeline, phases, "  acknowledged / failed / retried", p => $"{Count(p.Pipeline.BatchesAcknowledged)} / {Count(p.Pipeline.BatchesFailed)} / {Count(p.Pipeline.BatchesRetried)}");
        AddRow(pipeline, phases, "Tracking time", p => Seconds(p.TrackElapsed));
        AddRow(pipeline, phases, "  events tracked/s", p => Rate(p.Tracked, p.TrackElapsed));
        AddRow(pipeline, phases, "Elapsed, tracking + flush", p => Seconds(p.TotalElapsed));
        AddRow(pipeline, phases, "  events acknowledged/s", p => Rate(p.Pipeline.EventsAcknowledged, p.TotalElapsed));
        AddRow(pipeline, phases, "Collector received", p => Count(p.CollectorEvents));
        console.Write(pipeline);

        var collector = new Table().Title("Collector: events received per type").AddColumn("type");
        foreach (var phase in phases)
        {
            collector.AddColumn(new TableColumn(Markup.Escape(phase.Name)).RightAligned());
        }

        collector.AddColumn(new TableColumn("total").RightAligned());
        var types = new List<string>(result.CollectorEventsByType.Keys);
        types.Sort(StringComparer.Ordinal);
        foreach (var type in types)
        {
            collector.AddRow(
                Markup.Escape(type),
                Count(result.Instant.CollectorEventsByType.GetValueOrDefault(type)),
                Count(result.Durable.CollectorEventsByType.GetValueOrDefault(type)),
                Count(result.CollectorEventsByType[type]));
        }

        collector.AddRow("[bold]all[/]", Count(result.Instant.CollectorEvents), Count(result.Durable.CollectorEvents), $"[bold]{Count(result.CollectorEvents)}[/]");
        console.Write(collector);
    }

    private static void AddRow(Table table, PhaseResult[] phases, string label, Func<PhaseResult, string> cell)
    {
        var cells = new string[phases.Length + 1];
        cells[0] = Markup.Escape(label);
        for (var i = 0; i < phases.Length; i++)
        {
            cells[i + 1] = Markup.Escape(cell(phases[i]));
        }

        table.AddRow(cells);
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture) + " s";

    private static string Rate(long events, TimeSpan elapsed) =>
        elapsed > TimeSpan.Zero ? (events / elapsed.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture) : "-";
}
