using Clickstream.Cli.CommandLine;
using Clickstream.Pipeline;
using Spectre.Console;

namespace Clickstream.Cli.Demo;

/// <summary>
/// <c>demo</c>: tracks QoS0 and QoS1 sample events through a real pipeline to an embedded collector and
/// reports what the counters saw. Exit code 0 only when every QoS1 event was acknowledged and received.
/// </summary>
internal sealed class DemoCommand : ICliCommand
{
    private const string EventsOption = "events";
    private const string ShareOption = "qos0-share";
    private const string BatchSizeOption = "batch-size";
    private const string ProducersOption = "producers";
    private const string TimeoutOption = "flush-timeout";
    private const string TransportOption = "transport";

    public string Name => "demo";

    public string Summary => "Track QoS0 and QoS1 sample events through a pipeline to an embedded collector and report the counters.";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new(EventsOption, "N", "Events to track in all. Default 100,000."),
        new(ShareOption, "0..1", "Share of the events tracked as QoS0 (clicks); the rest are QoS1. Default 0.5."),
        new(BatchSizeOption, "N", "Events per request (MaxBatchSize). Default 500."),
        new(ProducersOption, "N", "Concurrent tasks calling TrackAsync. Default 64."),
        new(TimeoutOption, "SECONDS", "Longest wait for each phase's FlushAsync. Default 120."),
        new(TransportOption, TransportNames.Describe, "Protocol to the collector. Default http (REST, application/proto)."),
    ];

    public async Task<int> RunAsync(ParsedArguments arguments, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var settings = new DemoSettings(
            arguments.GetInt32(EventsOption, 100_000, 1, 100_000_000),
            arguments.GetDouble(ShareOption, 0.5, 0, 1),
            arguments.GetInt32(BatchSizeOption, 500, 1, 100_000),
            arguments.GetInt32(ProducersOption, 64, 1, 10_000),
            TimeSpan.FromSeconds(arguments.GetInt32(TimeoutOption, 120, 1, 86_400)),
            arguments.GetChoice(TransportOption, ClickstreamTransport.Http, TransportNames.Choices));

        DemoResult result;
        try
        {
            result = await DemoRunner.RunAsync(settings, console, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.MarkupLine("[yellow]cancelled[/]");
            return ExitCodes.Failure;
        }

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
