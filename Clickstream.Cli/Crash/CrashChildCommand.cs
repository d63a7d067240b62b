using Clickstream.Cli.CommandLine;
using Clickstream.Pipeline;
using Clickstream.Samples;
using Spectre.Console;

namespace Clickstream.Cli.Crash;

/// <summary>
/// <c>crash-child</c>: the process that <see cref="CrashHarness"/> starts and kills. It tracks QoS1 purchases
/// numbered from <c>--from</c> (the number is the event's <c>OrderId</c>, <c>o-&lt;n&gt;</c>) from several
/// producers, and writes each number to standard output once its <c>TrackAsync</c> completed (see
/// <see cref="ChildLines"/>). With <c>--flush</c> it only opens the store (which sends what earlier children
/// left in it), flushes and exits. Listed in the help as a diagnostics command; not meant to be run by hand.
/// </summary>
internal sealed class CrashChildCommand : ICliCommand
{
    public const string CommandName = "crash-child";
    public const string EndpointOption = "endpoint";
    public const string StoreOption = "store";
    public const string FromOption = "from";
    public const string CountOption = "count";
    public const string ProducersOption = "producers";
    public const string BatchSizeOption = "batch-size";
    public const string RequestsOption = "concurrent-requests";
    public const string FlushOption = "flush";
    public const string FlushTimeoutOption = "flush-timeout";

    /// <summary>The identity the child sends, as a Raccoon client must.</summary>
    public const string UserId = "clickstream-crash-child";

    public string Name => CommandName;

    public string Summary => "(diagnostics) The child process of crash-test: tracks numbered QoS1 events and prints each acknowledged number.";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new(EndpointOption, "URL", "The collector's REST events endpoint. Required."),
        new(StoreOption, "PATH", "The LiteDB store file, shared by every child of a run. Required."),
        new(FromOption, "N", "The number of the first event. Default 0."),
        new(CountOption, "N", "Events to track, numbered from --from; then wait until standard input closes. Default 10,000."),
        new(ProducersOption, "N", "Concurrent tasks calling TrackAsync. Default 8."),
        new(BatchSizeOption, "N", "MaxBatchSize. Default 50."),
        new(RequestsOption, "N", "MaxConcurrentRequests. Default 4."),
        new(FlushOption, null, "Track nothing: open the store, FlushAsync, print 'flushed <events left on disk>' and exit."),
        new(FlushTimeoutOption, "SECONDS", "Longest wait for --flush. Default 120."),
    ];

    public async Task<int> RunAsync(ParsedArguments arguments, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = arguments.GetAbsoluteUri(EndpointOption),
            StoragePath = arguments.GetRequiredString(StoreOption),
            MaxBatchSize = arguments.GetInt32(BatchSizeOption, 50, 1, 100_000),
            MaxConcurrentRequests = arguments.GetInt32(RequestsOption, 4, 1, 1_000),
            Headers = { ["X-User-ID"] = UserId },
        };
        var from = arguments.GetInt32(FromOption, 0, 0, int.MaxValue);
        var count = arguments.GetInt32(CountOption, 10_000, 0, int.MaxValue - from);
        var producers = arguments.GetInt32(ProducersOption, 8, 1, 1_000);
        var flushTimeout = TimeSpan.FromSeconds(arguments.GetInt32(FlushTimeoutOption, 120, 1, 86_400));

        // Raw standard output, not the console: every line must be one write, flushed at once (ChildLines).
        await using var stdout = Console.OpenStandardOutput();
        var lines = new ChildLines(stdout);

        lines.WriteWord(ChildLines.Opening);
        await using var pipeline = ClickstreamPipeline.Create(options);
        lines.WriteWord(ChildLines.Ready);

        if (arguments.Has(FlushOption))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(flushTimeout);
            await pipeline.FlushAsync(timeout.Token);
            var left = pipeline.GetStatistics().EventsPendingOnDisk;
            lines.WriteWord(FormattableString.Invariant($"{ChildLines.Flushed} {left}"));
            return ExitCodes.Success;
        }

        await TrackAsync(pipeline, lines, from, count, producers, cancellationToken);
        lines.WriteWord(ChildLines.Done);

        // The harness kills the child long before this; should the harness die instead, its end of the
        // pipe closes and the child ends too rather than lingering.
        await using var stdin = Console.OpenStandardInput();
        await stdin.CopyToAsync(Stream.Null, cancellationToken);
        return ExitCodes.Success;
    }

    private static async Task TrackAsync(ClickstreamPipeline pipeline, ChildLines lines, int from, int count, int producers, CancellationToken cancellationToken)
    {
        var next = -1;
        var tasks = new Task[producers];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(ProduceAsync, cancellationToken);
        }

        await Task.WhenAll(tasks);

        async Task ProduceAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var number = from + i;
                await pipeline.TrackAsync(SampleEvents.Purchase(number), cancellationToken);

                // Only now: the line is the proof that TrackAsync completed, i.e. the event is committed.
                lines.WriteNumber(number);
            }
        }
    }
}
