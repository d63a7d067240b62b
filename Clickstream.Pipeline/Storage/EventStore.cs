using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using LiteDB;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The write-ahead store of QoS1 events, a LiteDB file: what the rest of the pipeline talks to. Every write runs
/// on one dedicated writer thread (LiteDB transactions belong to the thread that opened them), which commits every
/// event waiting at that moment in one transaction (group commit) and only then completes their TrackAsync.
/// </summary>
/// <remarks>
/// Layout (raw <see cref="BsonDocument"/>, no mapper): QoS1 events in segments of several events, one per group
/// commit, keyed by their first event id (<see cref="SegmentLayout"/>); <c>requests</c> holding one record per
/// batch in flight, <c>_id</c> = req_guid, naming its event ids. An ack deletes the record and marks its events
/// done in one transaction: a segment whose events are all done is deleted, one partly done has its small head
/// rewritten.
/// <para>
/// Committed events are handed to the scheduler while memory holds fewer than its share of them
/// (<see cref="StorePolicy.MemoryEvents"/>, <see cref="StorePolicy.MemoryBytes"/>); beyond that they stay on
/// disk only, and the writer reads them back in id order as acks free room. A restart is the same case:
/// everything on disk is read back that way, never all at once.
/// </para>
/// <para>
/// The store is bounded (bytes, events, time to live): past a bound the oldest events on disk only are
/// evicted. A write that fails closes the file and the next operation opens it again; a file that cannot be
/// read at start is moved aside for a new one; a file left mostly empty is compacted.
/// </para>
/// <para>
/// One job per part: <see cref="StoreRecovery"/> opens (and <see cref="StoreMigration"/> migrates);
/// <see cref="StoreWriter"/> runs the thread and its queues; on it <see cref="GroupCommit"/> commits,
/// <see cref="RequestLog"/> applies the egress's commands (with <see cref="DeadLetterStore"/>),
/// <see cref="StoreBounds"/> evicts, <see cref="BacklogReader"/> reads back, <see cref="StoreCompaction"/>
/// compacts, <see cref="StoreFileGuard"/> reopens or replaces the file after a failure;
/// <see cref="StoreHandOver"/> is every call to the scheduler and the delivery epochs. They share the
/// <see cref="StoreLedger"/> (counts) and the <see cref="LiveSegments"/> (segments with events in memory).
/// </para>
/// </remarks>
internal sealed class EventStore : IDisposable
{
    private readonly StoreContext _context;
    private readonly StoreLedger _ledger = new();
    private readonly LiveSegments _live;
    private readonly DeadLetterStore _deadLetters;
    private readonly StoreWriter _writer;
    private StoreLock? _lock;

    private EventStore(EventStoreOptions options, PipelineCounters counters, ILogger logger)
    {
        _context = new StoreContext(options, counters, logger);
        _live = new LiveSegments(_context.File);
        _deadLetters = new DeadLetterStore(_context);
        _writer = new StoreWriter(_context);
    }

    /// <summary>QoS1 events found at open, left by an earlier run.</summary>
    public long RecoveredCount { get; private set; }

    /// <summary>The largest event id in the file at open (0 when empty): new ids continue after it.</summary>
    public long LastId { get; private set; }

    /// <summary>QoS1 events held in memory now (read by the metrics from another thread).</summary>
    public int InMemoryCount => Volatile.Read(ref _ledger.InMemory);

    /// <summary>
    /// Opens (or creates) the file and forgets the request records of an earlier run: their events are pending
    /// again. A file LiteDB cannot read is moved aside (with its log) and a new one started.
    /// </summary>
    /// <exception cref="ClickstreamStorageException">The file cannot be opened or created (permissions, IO error, a full disk).</exception>
    public static EventStore Open(EventStoreOptions options, PipelineCounters counters, ILogger logger)
    {
        var store = new EventStore(options, counters, logger);
        var recovery = new StoreRecovery(store._context, store._ledger);
        try
        {
            recovery.Open();
        }
        catch
        {
            recovery.Lock?.Dispose();
            throw;
        }

        store._lock = recovery.Lock;
        store.RecoveredCount = recovery.RecoveredCount;
        store.LastId = recovery.LastId;
        return store;
    }

    /// <summary>Starts the writer thread; from now on it hands committed events and flushes to <paramref name="scheduler"/> (its input).</summary>
    public void Start(ITargetBlock<FlowMessage> scheduler, DeliveryEpochs epochs, EventTypeRegistry types)
    {
        var handOver = new StoreHandOver(scheduler, epochs, types, _context.Policy, _ledger, _live);
        var guard = new StoreFileGuard(_context, _live, _ledger, handOver);
        var segments = new SegmentReader(_context, _live, _ledger, guard, handOver);
        var bounds = new StoreBounds(_context, guard, _live, _ledger, segments, handOver);
        _writer.Start(
            new GroupCommit(_context, guard, _ledger, handOver, bounds),
            new RequestLog(_context, guard, _live, _ledger, _deadLetters),
            bounds,
            new BacklogReader(_context, guard, _live, _ledger, segments, handOver, _writer),
            new StoreCompaction(_context, _ledger, _writer));
    }

    /// <summary>Queues QoS1 events and flush markers, in order, for the next group commit.</summary>
    public void Enqueue(EventEnvelope[] chunk) => _writer.Enqueue(chunk);

    /// <summary>Writes the request record of a batch before it is sent.</summary>
    public Task BeginRequestAsync(Guid requestGuid, EventEnvelope[] events) =>
        _writer.Submit(new StoreCommand(StoreCommandKind.BeginRequest, requestGuid, events));

    /// <summary>Deletes an acknowledged request and its events in one transaction.</summary>
    public Task AcknowledgeAsync(Guid requestGuid, EventEnvelope[] events) =>
        _writer.Submit(new StoreCommand(StoreCommandKind.Acknowledge, requestGuid, events));

    /// <summary>Forgets the record of a failed request; its events are pending again.</summary>
    public Task ReleaseAsync(Guid requestGuid, EventEnvelope[] events) =>
        _writer.Submit(new StoreCommand(StoreCommandKind.Release, requestGuid, events));

    /// <summary>Moves an event the server refused for good to the dead letters, with the reason, in one transaction.</summary>
    public Task DeadLetterAsync(EventEnvelope envelope, string reason) =>
        _writer.Submit(new StoreCommand(StoreCommandKind.DeadLetter, Guid.Empty, [envelope], reason));

    /// <summary>The newest dead letters first, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLetters(int max) => _deadLetters.ReadNewest(max);

    /// <summary>The oldest dead letters with a key above <paramref name="afterId"/>, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLettersAfter(long afterId, int max) => _deadLetters.ReadAfter(afterId, max);

    /// <summary>The dead letters of these keys that exist, in key order.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLetters(long[] ids) => _deadLetters.Read(ids);

    /// <summary>Deletes the dead letters of these keys (all of them when null) in one transaction; returns how many were deleted.</summary>
    public async Task<int> DeleteDeadLettersAsync(long[]? ids)
    {
        var command = new StoreCommand(StoreCommandKind.DeleteDeadLetters, Guid.Empty, []) { DeadLetterIds = ids };
        await _writer.Submit(command).ConfigureAwait(false);
        return command.Affected;
    }

    /// <summary>Stops the writer after it has committed what was queued, and closes the file.</summary>
    public void Dispose()
    {
        if (_writer.IsStopping)
        {
            return;
        }

        _writer.Stop();
        try
        {
            _context.File.Close();
        }
        catch (Exception ex)
        {
            // What is committed stays in the log and is checkpointed at the next open.
            Log.StoreOperationFailed(_context.Logger, "close", ex);
        }

        // Only once the files are closed: a next owner must find them closed.
        _lock?.Dispose();
        _writer.Dispose();
    }
}
