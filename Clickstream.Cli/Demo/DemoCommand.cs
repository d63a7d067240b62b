using System.ComponentModel;
using Clickstream.Cli.CommandLine;
using Clickstream.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Clickstream.Cli.Demo;

/// <summary>
/// <c>demo</c>: tracks QoS0 and QoS1 sample events through a real pipeline to an embedded collector and
/// reports what the counters saw. Exit code 0 only when every QoS1 event was acknowledged and received.
/// </summary>
internal sealed class DemoCommand(IAnsiConsole console) : AsyncCommand<DemoCommand.Settings>
{
    /// <summary>The options of <c>demo</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--events <N>")]
        [Description("Events to track in all.")]
        [DefaultValue(100_000)]
        [TypeConverter(typeof(CountConverter))]
        public int Events { get; init; } = 100_000;

        [CommandOption("--qos0-share <SHARE>")]
        [Description("Share of the events tracked as QoS0 (clicks), 0 to 1; the rest are QoS1.")]
        [DefaultValue(0.5)]
        public double InstantShare { get; init; } = 0.5;

        [CommandOption("--batch-size <N>")]
        [Description("Events per request (MaxBatchSize).")]
        [DefaultValue(500)]
        [TypeConverter(typeof(CountConverter))]
        public int BatchSize { get; init; } = 500;

        [CommandOption("--producers <N>")]
        [Description("Concurrent tasks calling TrackAsync.")]
        [DefaultValue(64)]
        [TypeConverter(typeof(CountConverter))]
        public int Producers { get; init; } = 64;

        [CommandOption("--flush-timeout <SECONDS>")]
        [Description("Longest wait for each phase's FlushAsync.")]
        [DefaultValue(120)]
        [TypeConverter(typeof(CountConverter))]
        public int FlushTimeoutSeconds { get; init; } = 120;

        [CommandOption("--transport <TRANSPORT>")]
        [Description("Protocol to the collector: " + TransportNames.Describe + " (http is REST with application/proto).")]
        [DefaultValue("http")]
        public string Transport { get; init; } = "http";

        [CommandOption("--queue-full <MODE>")]
        [Description("What TrackAsync does with a QoS0 event when MaxQueuedEvents are in memory: drop-newest (drop it), drop-oldest, or wait (back-pressure).")]
        [DefaultValue("drop-newest")]
        public string QueueFull { get; init; } = "drop-newest";

        public override ValidationResult Validate() => new Checks()
            .Range("--events", Events, 1, 100_000_000)
            .Range("--qos0-share", InstantShare, 0, 1)
            .Range("--batch-size", BatchSize, 1, 100_000)
            .Range("--producers", Producers, 1, 10_000)
            .Range("--flush-timeout", FlushTimeoutSeconds, 1, 86_400)
            .Check("--transport", Transport)
            .Result() is { Successful: false } failed ? failed
            : QueueFullMode is null ? ValidationResult.Error($"--queue-full: '{QueueFull}' is not one of drop-newest, drop-oldest, wait.")
            : ValidationResult.Success();

        private ClickstreamQueueFullMode? QueueFullMode => QueueFull switch
        {
            "drop-newest" => ClickstreamQueueFullMode.DropNewest,
            "drop-oldest" => ClickstreamQueueFullMode.DropOldest,
            "wait" => ClickstreamQueueFullMode.Wait,
            _ => null,
        };

        public DemoSettings ToDemoSettings() =>
            new(Events, InstantShare, BatchSize, Producers, TimeSpan.FromSeconds(FlushTimeoutSeconds), TransportNames.Parse(Transport), QueueFullMode!.Value);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var result = await DemoRunner.RunAsync(settings.ToDemoSettings(), console, cancellationToken);

        DemoReport.Write(console, result);
        var problems = result.FindDeliveryProblems();
        if (problems.Count == 0)
        {
            console.MarkupLineInterpolated($"[green]OK[/]: all {result.Durable.Pipeline.DurableEventsTracked:N0} QoS1 events were acknowledged and received by the collector.");
            return ExitCodes.Success;
        }

        console.MarkupLine("[red]FAILED[/]: QoS1 delivery is incomplete:");
        foreach (var problem in problems)
        {
            console.MarkupLineInterpolated($"  - {problem}");
        }

        return ExitCodes.Failure;
    }
}
