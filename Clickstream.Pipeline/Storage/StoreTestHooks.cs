namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Internal switches of the store for the crash test (<c>clickstream crash-child</c>): thresholds low enough that
/// a short run crosses checkpoints and compactions, and callbacks that say which events are evicted and when the
/// file was compacted. Not options: nothing public reaches them.
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
}
