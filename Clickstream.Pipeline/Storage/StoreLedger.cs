namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The store's count of its QoS1 events, kept by the writer thread (and by the open, before it starts): those in
/// memory, handed to the scheduler and not yet acknowledged; those on disk only, from <see cref="SpilledFrom"/> on;
/// and those stored, every event in the file as counted for the bounds (<see cref="StorePolicy"/>).
/// </summary>
/// <remarks>
/// Fields, not properties: the parts of the store add to them in place, and <see cref="InMemory"/> is read with
/// <see cref="Volatile"/> by the metrics on another thread.
/// </remarks>
internal sealed class StoreLedger
{
    /// <summary>QoS1 events handed to the scheduler and not yet acknowledged.</summary>
    public int InMemory;

    /// <summary>The bytes counted for <see cref="InMemory"/>.</summary>
    public long InMemoryBytes;

    /// <summary>The first event on disk only; -1 when every committed event is in memory.</summary>
    public long SpilledFrom = -1;

    /// <summary>The key (first id) of the segment that holds <see cref="SpilledFrom"/>, where a read of the backlog starts.</summary>
    public long SpilledSegment = -1;

    /// <summary>Every event pending in the file, in memory or not.</summary>
    public long StoredEvents;

    /// <summary>The bytes counted for <see cref="StoredEvents"/>.</summary>
    public long StoredBytes;

    /// <summary>Whether something was deleted since the compaction last looked at the file.</summary>
    public bool DeletedSinceCompactionCheck;
}
