using System.ComponentModel;
using Clickstream.Cli;
using Clickstream.Cli.CommandLine;
using Clickstream.Pipeline.Storage;
using Clickstream.Samples;
using Spectre.Console;
using Spectre.Console.Cli;
// NUnit has a DescriptionAttribute too (global using); Spectre reads the ComponentModel one.
using DescriptionAttribute = System.ComponentModel.DescriptionAttribute;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// <c>crash-child</c>: the process that <see cref="CrashHarness"/> starts and kills. It tracks QoS1 purchases
/// numbered from <c>--from</c> (the number is the event's <c>OrderId</c>, <c>o-&lt;n&gt;</c>) from several
/// producers, and writes each number to standard output once its <c>TrackAsync</c> completed (see
/// <see cref="ChildLines"/>). With <c>--flush</c> it only opens the store (which sends what earlier children
/// left in it), flushes and exits. Hidden from the help: not meant to be run by hand.
/// </summary>
internal sealed class CrashChildCommand : AsyncCommand<CrashChildCommand.Settings>
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
    public const string MaxStoredEventsOption = "max-stored-events";
    public const string RarePathsOption = "rare-paths";
    public const string FailWriteOption = "fail-write-after";
    public const string MigrationChunkOption = "migration-chunk";

    /// <summary>With --rare-paths: a checkpoint once the log passes this (LiteDB's default: 8 MB), so the data file grows and shrinks within a run.</summary>
    internal const long RarePathsCheckpointLogBytes = 128 * 1024;

    /// <summary>With --rare-paths: the smallest data file compacted (the default: 8 MB).</summary>
    internal const long RarePathsCompactionMinFileBytes = 32 * 1024;

    public const string FlushCommitsToDiskOption = "flush-commits-to-disk";

    /// <summary>The identity the child sends, as a Raccoon client must.</summary>
    public const string UserId = "clickstream-crash-child";

    /// <summary>The options of <c>crash-child</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--" + EndpointOption + " <URL>", isRequired: true)]
        [Description("The collector's REST events endpoint.")]
        public Uri Endpoint { get; init; } = null!;

        [CommandOption("--" + StoreOption + " <PATH>", isRequired: true)]
        [Description("The LiteDB store file, shared by every child of a run.")]
        public string Store { get; init; } = null!;

        [CommandOption("--" + FromOption + " <N>")]
        [Description("The number of the first event.")]
        [TypeConverter(typeof(CountConverter))]
        public int From { get; init; }

        [CommandOption("--" + CountOption + " <N>")]
        [Description("Events to track, numbered from --from; then wait until standard input closes.")]
        [DefaultValue(10_000)]
        [TypeConverter(typeof(CountConverter))]
        public int Count { get; init; } = 10_000;

        [CommandOption("--" + ProducersOption + " <N>")]
        [Description("Concurrent tasks calling TrackAsync.")]
        [DefaultValue(8)]
        [TypeConverter(typeof(CountConverter))]
        public int Producers { get; init; } = 8;

        [CommandOption("--" + BatchSizeOption + " <N>")]
        [Description("MaxBatchSize.")]
        [DefaultValue(50)]
        [TypeConverter(typeof(CountConverter))]
        public int BatchSize { get; init; } = 50;

        [CommandOption("--" + RequestsOption + " <N>")]
        [Description("MaxConcurrentRequests.")]
        [DefaultValue(4)]
        [TypeConverter(typeof(CountConverter))]
        public int ConcurrentRequests { get; init; } = 4;

        [CommandOption("--" + FlushOption)]
        [Description("Track nothing: open the store, FlushAsync, print 'flushed <events left on disk>' and exit.")]
        public bool Flush { get; init; }

        [CommandOption("--" + FlushTimeoutOption + " <SECONDS>")]
        [Description("Longest wait for --flush.")]
        [DefaultValue(120)]
        [TypeConverter(typeof(CountConverter))]
        public int FlushTimeoutSeconds { get; init; } = 120;

        [CommandOption("--" + MaxStoredEventsOption + " <N>")]
        [Description("MaxStoredEvents (0: the default), so that the store evicts; MaxInMemoryStoredEvents is set to half of it.")]
        [TypeConverter(typeof(CountConverter))]
        public int MaxStoredEvents { get; init; }

        [CommandOption("--" + RarePathsOption)]
        [Description("Lower the store's checkpoint and compaction thresholds (internal hooks) and print 'evicted <n>' for each event about to be evicted and 'compacted' after each compaction.")]
        public bool RarePaths { get; init; }

        [CommandOption("--" + MigrationChunkOption + " <N>")]
        [Description("Migrate a store of the legacy layout N events per transaction (0: the default, 4,096) and print 'migrated' after each transaction.")]
        [TypeConverter(typeof(CountConverter))]
        public int MigrationChunk { get; init; }

        [CommandOption("--" + FailWriteOption + " <N>")]
        [Description("Once the pipeline is created, the N-th write to the store files fails as a full disk would (0: none); prints 'write-failed'.")]
        [TypeConverter(typeof(CountConverter))]
        public int FailWriteAfter { get; init; }

        [CommandOption("--" + FlushCommitsToDiskOption)]
        [Description("FlushCommitsToDisk: fsync each group commit before its TrackAsync completes.")]
        public bool FlushCommitsToDisk { get; init; }

        public override ValidationResult Validate() => new Checks()
            .That(Endpoint?.IsAbsoluteUri == true, "--endpoint must be an absolute URI.")
            .Range("--from", From, 0, int.MaxValue)
            .Range("--count", Count, 0, int.MaxValue - (long)From)
            .Range("--producers", Producers, 1, 1_000)
            .Range("--batch-size", BatchSize, 1, 100_000)
            .Range("--concurrent-requests", ConcurrentRequests, 1, 1_000)
            .Range("--flush-timeout", FlushTimeoutSeconds, 1, 86_400)
            .Range("--max-stored-events", MaxStoredEvents, 0, int.MaxValue)
            .Range("--fail-write-after", FailWriteAfter, 0, int.MaxValue)
            .Range("--migration-chunk", MigrationChunk, 0, 1_000_000)
            .Result();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = settings.Endpoint,
            StoragePath = settings.Store,
            MaxBatchSize = settings.BatchSize,
            MaxConcurrentRequests = settings.ConcurrentRequests,
            Headers = { ["X-User-ID"] = UserId },
            FlushCommitsToDisk = settings.FlushCommitsToDisk,
            LoggerFactory = new StandardErrorLogger(),
        };
        var from = settings.From;
        var count = settings.Count;
        var producers = settings.Producers;
        var flushTimeout = TimeSpan.FromSeconds(settings.FlushTimeoutSeconds);

        // Raw standard output, not the console: every line must be one write, flushed at once (ChildLines).
        await using var stdout = Console.OpenStandardOutput();
        var lines = new ChildLines(stdout);

        var (hooks, files) = ConfigureRarePaths(options, settings, lines);
        lines.WriteWord(ChildLines.Opening);
        await using var pipeline = ClickstreamPipeline.Create(options, hooks);
        lines.WriteWord(ChildLines.Ready);

        // Only now: a failure while the store opens would end the child, not exercise the store's failure path.
        files?.Arm(settings.FailWriteAfter);

        if (settings.Flush)
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

    /// <summary>The store bound the settings ask for, set on the options; the internal hooks and the failing file system, if any, they ask for.</summary>
    private static (PipelineHooks Hooks, FailingWriteFileSystem? Files) ConfigureRarePaths(ClickstreamOptions options, Settings settings, ChildLines lines)
    {
        if (settings.MaxStoredEvents > 0)
        {
            options.MaxStoredEvents = settings.MaxStoredEvents;
            options.MaxInMemoryStoredEvents = Math.Max(settings.BatchSize, settings.MaxStoredEvents / 2);
        }

        var hooks = PipelineHooks.None;
        if (settings.RarePaths || settings.MigrationChunk > 0)
        {
            var rare = settings.RarePaths;
            hooks = hooks with
            {
                StoreTestHooks = new StoreTestHooks
                {
                    CheckpointLogBytes = rare ? RarePathsCheckpointLogBytes : null,
                    CompactionMinFileBytes = rare ? RarePathsCompactionMinFileBytes : null,
                    Evicting = rare
                        ? bytes => lines.WriteWord(CrashHarness.TryReadNumber(bytes.ToArray(), out var number)
                            ? FormattableString.Invariant($"{ChildLines.Evicted} {number}")
                            : ChildLines.Evicted + " ?")
                        : null,
                    Compacted = rare ? () => lines.WriteWord(ChildLines.Compacted) : null,
                    MigrationChunk = settings.MigrationChunk > 0 ? settings.MigrationChunk : null,
                    Migrated = settings.MigrationChunk > 0 ? () => lines.WriteWord(ChildLines.Migrated) : null,
                },
            };
        }

        if (settings.FailWriteAfter == 0)
        {
            return (hooks, null);
        }

        var files = new FailingWriteFileSystem(() => lines.WriteWord(ChildLines.WriteFailed));
        return (hooks with { FileSystem = files }, files);
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
                try
                {
                    await pipeline.TrackAsync(SampleEvents.Purchase(number), cancellationToken);
                }
                catch (ClickstreamStorageException)
                {
                    // An injected write failure (--fail-write-after): not committed, not reported; the store reopens.
                    continue;
                }

                // Only now: the line is the proof that TrackAsync completed, i.e. the event is committed.
                lines.WriteNumber(number);
            }
        }
    }
}
