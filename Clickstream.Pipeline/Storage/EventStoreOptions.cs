namespace Clickstream.Pipeline.Storage;

/// <summary>What the <see cref="EventStore"/> is given: its file, its bounds and its seams.</summary>
internal sealed record EventStoreOptions
{
    public required string Path { get; init; }

    /// <summary>QoS1 events held in memory at most (<c>MaxInMemoryStoredEvents</c>).</summary>
    public int MemoryBudget { get; init; } = ClickstreamDefaults.MaxInMemoryStoredEvents;

    public long MaxStoredEvents { get; init; } = ClickstreamDefaults.MaxStoredEvents;

    public long MaxStorageBytes { get; init; } = ClickstreamDefaults.MaxStorageBytes;

    /// <summary><see cref="Timeout.InfiniteTimeSpan"/>: no time to live.</summary>
    public TimeSpan EventTimeToLive { get; init; } = ClickstreamDefaults.EventTimeToLive;

    public bool FlushCommitsToDisk { get; init; }

    /// <summary>Without <see cref="FlushCommitsToDisk"/>: the log is synced this long after a commit (<c>DiskSyncInterval</c>); infinite: at checkpoints only.</summary>
    public TimeSpan DiskSyncInterval { get; init; } = ClickstreamDefaults.DiskSyncInterval;

    /// <summary>Dead letters kept at most; past it the oldest are deleted (<c>MaxDeadLetters</c>).</summary>
    public int MaxDeadLetters { get; init; } = ClickstreamDefaults.MaxDeadLetters;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public StoreFileSystem FileSystem { get; init; } = StoreFileSystem.Default;

    /// <summary>A data file smaller than this is never compacted: there is little to give back.</summary>
    public long CompactionMinFileBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>
    /// A store holding more than this is not compacted (yet): a compaction copies what is left on the writer
    /// thread, so this bounds how long it holds commits up.
    /// </summary>
    public long CompactionMaxCopyBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>
    /// The write-ahead log's size past which a commit is followed by a checkpoint: LiteDB's own default, 1,000
    /// pages of 8 KB (see <see cref="StoreDatabase.CheckpointIfDue"/>).
    /// </summary>
    public long CheckpointLogBytes { get; init; } = 1000L * 8192;

    /// <summary>The crash test's switches, or null.</summary>
    public StoreTestHooks? TestHooks { get; init; }

    public static EventStoreOptions From(PipelineSettings settings)
    {
        var options = new EventStoreOptions
        {
            Path = settings.StoragePath,
            MemoryBudget = settings.MaxInMemoryStoredEvents,
            MaxStoredEvents = settings.MaxStoredEvents,
            MaxStorageBytes = settings.MaxStorageBytes,
            EventTimeToLive = settings.EventTimeToLive,
            FlushCommitsToDisk = settings.FlushCommitsToDisk,
            DiskSyncInterval = settings.DiskSyncInterval,
            MaxDeadLetters = settings.MaxDeadLetters,
            TimeProvider = settings.TimeProvider,
            FileSystem = settings.StoreFileSystem,
        };
        return settings.StoreTestHooks is { } hooks
            ? options with
            {
                CompactionMinFileBytes = hooks.CompactionMinFileBytes ?? options.CompactionMinFileBytes,
                CheckpointLogBytes = hooks.CheckpointLogBytes ?? options.CheckpointLogBytes,
                TestHooks = hooks,
            }
            : options;
    }
}
