using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The store's rules as arithmetic, with no IO: how much of the store may be in memory, when a bound is passed
/// and how far eviction goes, when an event has expired, and when the file is worth compacting.
/// </summary>
/// <remarks>
/// Sizes are counted, not read from the file: its payload, its type, and <see cref="DocumentOverhead"/>, what an
/// event cost in the layout of one document per event. In segments (<see cref="SegmentLayout"/>) an event takes its
/// bytes + <see cref="SegmentLayout.EntryHeaderBytes"/>, so the count overstates the file and the bounds are
/// conservative; the overhead stays, so that the same options never allow a larger file (the figures: ARCHITECTURE,
/// Decisions: bounded store).
/// </remarks>
internal sealed class StorePolicy
{
    /// <summary>Bytes counted per event on top of its payload and type.</summary>
    public const int DocumentOverhead = 256;

    /// <summary>Eviction goes this fraction of a bound below it, so that evictions come in runs, not at every commit.</summary>
    private const int EvictionSlackDivisor = 32;

    private readonly long _maxEvents;
    private readonly long _maxBytes;
    private readonly long _timeToLiveTicks;
    private readonly long _compactionMinFileBytes;
    private readonly long _compactionMaxCopyBytes;

    public StorePolicy(EventStoreOptions options)
    {
        _maxEvents = options.MaxStoredEvents;
        _maxBytes = options.MaxStorageBytes;
        _timeToLiveTicks = options.EventTimeToLive == Timeout.InfiniteTimeSpan ? long.MaxValue : options.EventTimeToLive.Ticks;
        _compactionMinFileBytes = options.CompactionMinFileBytes;
        _compactionMaxCopyBytes = options.CompactionMaxCopyBytes;

        // Eviction takes events from disk only (see StoreBounds), so what memory holds must leave the rest of
        // each bound to the disk: at most half of it is in memory, and the disk part then always holds what
        // has to go.
        MemoryEvents = (int)Math.Min(options.MemoryBudget, Math.Max(1, _maxEvents / 2));
        MemoryBytes = Math.Max(1, _maxBytes / 2);
        TargetEvents = _maxEvents - (_maxEvents / EvictionSlackDivisor);
        TargetBytes = _maxBytes - (_maxBytes / EvictionSlackDivisor);
        ExpiryCheckInterval = _timeToLiveTicks == long.MaxValue
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Clamp(_timeToLiveTicks / 16, TimeSpan.TicksPerSecond, TimeSpan.TicksPerHour));
    }

    /// <summary>QoS1 events held in memory at most.</summary>
    public int MemoryEvents { get; }

    /// <summary>Bytes of QoS1 events held in memory at most (one event always fits).</summary>
    public long MemoryBytes { get; }

    /// <summary>Where an eviction run stops, by count.</summary>
    public long TargetEvents { get; }

    /// <summary>Where an eviction run stops, by bytes.</summary>
    public long TargetBytes { get; }

    public bool HasTimeToLive => _timeToLiveTicks != long.MaxValue;

    /// <summary>How often expired events are looked for; infinite without a time to live.</summary>
    public TimeSpan ExpiryCheckInterval { get; }

    /// <summary>The bytes an event is counted for.</summary>
    public static long SizeOf(int payloadBytes, int typeLength) => (long)payloadBytes + typeLength + DocumentOverhead;

    /// <summary>The bytes a QoS1 event is counted for.</summary>
    public static long SizeOf(EventEnvelope e) => SizeOf(e.Payload.Length, e.TypeInfo.Type.Length);

    /// <summary>Whether one more event of <paramref name="size"/> may be held in memory; the first always may.</summary>
    public bool FitsInMemory(int inMemory, long inMemoryBytes, long size) =>
        inMemory == 0 || (inMemory < MemoryEvents && inMemoryBytes + size <= MemoryBytes);

    /// <summary>Whether a batch of acks or evictions freed enough memory to read more of the backlog.</summary>
    public bool HasRoomForBacklog(int inMemory, long inMemoryBytes) =>
        inMemory <= MemoryEvents / 2 && inMemoryBytes <= MemoryBytes / 2;

    /// <summary>Whether the store passed a bound and an eviction run is due.</summary>
    public bool IsOverCapacity(long storedEvents, long storedBytes) => storedEvents > _maxEvents || storedBytes > _maxBytes;

    /// <summary>Whether an eviction run must go on: the store is still above <see cref="TargetEvents"/> or <see cref="TargetBytes"/>.</summary>
    public bool IsAboveTarget(long storedEvents, long storedBytes) => storedEvents > TargetEvents || storedBytes > TargetBytes;

    /// <summary>Events stamped before this (UTC ticks) have expired at <paramref name="now"/>; <see cref="long.MinValue"/> without a time to live.</summary>
    public long ExpiredBefore(DateTimeOffset now)
    {
        if (!HasTimeToLive)
        {
            return long.MinValue;
        }

        var nowTicks = now.UtcTicks;
        return nowTicks > _timeToLiveTicks ? nowTicks - _timeToLiveTicks : long.MinValue;
    }

    /// <summary>
    /// Whether the data file is worth compacting: big enough to matter, at least three quarters free space by
    /// the count of what it holds, what it holds small enough to copy quickly, and grown to twice its size
    /// since the last compaction (so that a count that is off never makes it compact again and again).
    /// </summary>
    public bool ShouldCompact(long fileBytes, long storedBytes, long lastCompactedFileBytes) =>
        fileBytes >= _compactionMinFileBytes
        && storedBytes <= fileBytes / 4
        && storedBytes <= _compactionMaxCopyBytes
        && fileBytes >= 2 * lastCompactedFileBytes;
}
