namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Internal switches of the store for the crash test (the test project's <c>crash-child</c>): thresholds low enough that
/// a short run crosses checkpoints, compactions and migration transactions, and callbacks that say which events are evicted
/// and when the file was compacted or a migration transaction committed. Not options: nothing public reaches them.
/// </summary>
internal sealed class StoreTestHooks
{
    /// <summary>Replaces <see cref="EventStoreOptions.CompactionMinFileBytes"/>.</summary>
    public long? CompactionMinFileBytes { get; init; }

    /// <summary>Replaces <see cref="EventStoreOptions.CheckpointLogBytes"/>.</summary>
    public long? CheckpointLogBytes { get; init; }

    /// <summary>
    /// Called on the writer thread with the bytes of each event about to be evicted, before the transaction that
    /// evicts it commits: whoever records them knows every event that may be gone, and perhaps a few more.
    /// </summary>
    public Action<ReadOnlyMemory<byte>>? Evicting { get; init; }

    /// <summary>Called on the writer thread after each compaction.</summary>
    public Action? Compacted { get; init; }

    /// <summary>Replaces the events moved per transaction when a store of the legacy layout is migrated (4,096).</summary>
    public int? MigrationChunk { get; init; }

    /// <summary>Called while the store opens, after each migration transaction committed.</summary>
    public Action? Migrated { get; init; }
}
