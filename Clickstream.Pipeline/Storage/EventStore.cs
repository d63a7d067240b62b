using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using LiteDB;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The write-ahead store of QoS1 events, a LiteDB file. Every write runs on one dedicated writer thread
/// (LiteDB transactions belong to the thread that opened them), which commits every event waiting at that
/// moment in one transaction (group commit) and only then completes their TrackAsync.
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
/// disk only, from <c>_spilledFrom</c> on, and the writer reads them back in id order as acks free room. A
/// restart is the same case: everything on disk is read back that way, never all at once.
/// </para>
/// <para>
/// The store is bounded (bytes, events, time to live): past a bound the oldest events on disk only are
/// evicted. A write that fails closes the file and the next operation opens it again; a file that cannot be
/// read at start is moved aside for a new one; a file left mostly empty is compacted.
/// </para>
/// </remarks>
internal sealed class EventStore : IDisposable
{
    private const int MaxGroupSize = 8192;
    private const int EvictionChunk = 8192;
    private const int MigrationChunk = 4096;

    /// <summary>Transactions tried for an ack that failed once, before its events are left on disk for the next start.</summary>
    private const int MaxAckAttempts = 3;

    private readonly ConcurrentQueue<EventEnvelope> _inserts = new();
    private readonly ConcurrentQueue<StoreCommand> _commands = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<EventEnvelope> _group = new(MaxGroupSize);
    private readonly List<StoreCommand> _commandGroup = [];
    private readonly List<long> _evicted = [];
    private readonly SegmentBuilder _builder = new();
    private readonly List<int> _segmentEnds = [];
    private readonly List<SegmentEntry> _entries = [];

    // Segments with events in memory, in id order (so an ack finds its segment by binary search); those all
    // done are removed in bulk once they are half the list. Marks and touched segments belong to the open
    // transaction.
    private readonly List<Segment> _live = [];
    private readonly List<Mark> _marks = [];
    private readonly List<Segment> _touched = [];

    // Acks whose transaction failed, applied again before the next commands (see ReleaseUnapplied).
    private readonly List<StoreCommand> _unappliedAcks = [];
    private int _unappliedAttempts;
    private int _liveRemoved;
    private readonly StoreDatabase _file;
    private readonly StorePolicy _policy;
    private readonly TimeProvider _timeProvider;
    private readonly bool _flushCommitsToDisk;
    private readonly TimeSpan _diskSyncInterval;
    private readonly int _maxDeadLetters;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;
    private StoreLock? _lock;
    private readonly StoreTestHooks? _hooks;
    private Thread? _writer;
    private ITimer? _expiryTimer;
    private ITimer? _syncTimer;

    /// <summary>Set by the writer after a commit it did not sync; read by the sync timer.</summary>
    private volatile bool _unsynced;
    private volatile bool _syncDue;
    private ITargetBlock<FlowMessage>? _output;
    private DeliveryEpochs? _epochs;
    private EventTypeRegistry? _types;
    private int _signaled;
    private volatile bool _stopping;
    private volatile bool _expiryDue;

    // Writer-thread state. In memory: QoS1 events handed to the scheduler and not yet acknowledged. On disk
    // only: the events from _spilledFrom on (-1 when every committed event is in memory). Stored: every event
    // in the file, as counted for the bounds.
    private int _inMemory;
    private long _inMemoryBytes;
    private long _spilledFrom = -1;
    private long _spilledSegment = -1;
    private long _storedEvents;
    private long _storedBytes;

    private bool _deletedSinceCompactionCheck;

    // Dead letters deleted by the bound in the open command transaction: counted and logged once it commits.
    private int _deadLettersEvicted;
    private long _lastCompactedLength;

    private EventStore(EventStoreOptions options, PipelineCounters counters, ILogger logger)
    {
        _file = new StoreDatabase(options.Path, options.FileSystem) { CheckpointLogBytes = options.CheckpointLogBytes };
        _policy = new StorePolicy(options);
        _timeProvider = options.TimeProvider;
        _flushCommitsToDisk = options.FlushCommitsToDisk;
        _diskSyncInterval = options.DiskSyncInterval;
        _maxDeadLetters = options.MaxDeadLetters;
        _counters = counters;
        _logger = logger;
        _hooks = options.TestHooks;
    }

    /// <summary>QoS1 events found at open, left by an earlier run.</summary>
    public long RecoveredCount { get; private set; }

    /// <summary>The largest event id in the file at open (0 when empty): new ids continue after it.</summary>
    public long LastId { get; private set; }

    /// <summary>QoS1 events held in memory now (read by the metrics from another thread).</summary>
    public int InMemoryCount => Volatile.Read(ref _inMemory);

    /// <summary>
    /// Opens (or creates) the file and forgets the request records of an earlier run: their events are pending
    /// again. A file LiteDB cannot read is moved aside (with its log) and a new one started.
    /// </summary>
    /// <exception cref="ClickstreamStorageException">The file cannot be opened or created (permissions, IO error, a full disk).</exception>
    public static EventStore Open(EventStoreOptions options, PipelineCounters counters, ILogger logger)
    {
        var store = new EventStore(options, counters, logger);
        try
        {
            store.OpenAtStart();
        }
        catch
        {
            store._lock?.Dispose();
            throw;
        }

        return store;
    }

    /// <summary>Starts the writer thread; from now on it hands committed events and flushes to <paramref name="output"/> (the scheduler).</summary>
    public void Start(ITargetBlock<FlowMessage> output, DeliveryEpochs epochs, EventTypeRegistry types)
    {
        _output = output;
        _epochs = epochs;
        _types = types;

        // A background thread: the store must never keep the app's process alive.
        _writer = new Thread(Run) { IsBackground = true, Name = "Clickstream store writer" };
        _writer.Start();
        if (!_flushCommitsToDisk && _diskSyncInterval != Timeout.InfiniteTimeSpan)
        {
            _syncTimer = _timeProvider.CreateTimer(static s => ((EventStore)s!).OnSyncCheck(), this, _diskSyncInterval, _diskSyncInterval);
        }

        if (_policy.HasTimeToLive)
        {
            _expiryTimer = _timeProvider.CreateTimer(
                static s => ((EventStore)s!).OnExpiryCheck(), this, _policy.ExpiryCheckInterval, _policy.ExpiryCheckInterval);
        }

        Wake();
    }

    /// <summary>Queues QoS1 events and flush markers, in order, for the next group commit.</summary>
    public void Enqueue(EventEnvelope[] chunk)
    {
        foreach (var envelope in chunk)
        {
            _inserts.Enqueue(envelope);
        }

        Wake();
    }

    /// <summary>Writes the request record of a batch before it is sent.</summary>
    public Task BeginRequestAsync(Guid requestGuid, EventEnvelope[] events) => Submit(StoreCommandKind.BeginRequest, requestGuid, events);

    /// <summary>Deletes an acknowledged request and its events in one transaction.</summary>
    public Task AcknowledgeAsync(Guid requestGuid, EventEnvelope[] events) => Submit(StoreCommandKind.Acknowledge, requestGuid, events);

    /// <summary>Forgets the record of a failed request; its events are pending again.</summary>
    public Task ReleaseAsync(Guid requestGuid, EventEnvelope[] events) => Submit(StoreCommandKind.Release, requestGuid, events);

    /// <summary>Moves an event the server refused for good to the dead letters, with the reason, in one transaction.</summary>
    public Task DeadLetterAsync(EventEnvelope envelope, string reason)
    {
        if (_stopping)
        {
            return Task.FromException(new ObjectDisposedException(nameof(EventStore)));
        }

        var command = new StoreCommand(StoreCommandKind.DeadLetter, Guid.Empty, [envelope], reason);
        _commands.Enqueue(command);
        Wake();
        return command.Done.Task;
    }

    /// <summary>The newest dead letters first, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLetters(int max) =>
        ToDeadLetters(_file.ReadNewest(StoreDatabase.DeadLettersCollection, max));

    /// <summary>The oldest dead letters with a key above <paramref name="afterId"/>, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLettersAfter(long afterId, int max) =>
        ToDeadLetters(_file.Read(StoreDatabase.DeadLettersCollection, Query.GT(StoreDatabase.IdField, afterId), max));

    /// <summary>The dead letters of these keys that exist, in key order.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLetters(long[] ids)
    {
        var values = new BsonArray();
        foreach (var id in ids)
        {
            values.Add(id);
        }

        return ToDeadLetters(_file.Read(StoreDatabase.DeadLettersCollection, Query.In(StoreDatabase.IdField, values), int.MaxValue));
    }

    /// <summary>Deletes the dead letters of these keys (all of them when null) in one transaction; returns how many were deleted.</summary>
    public async Task<int> DeleteDeadLettersAsync(long[]? ids)
    {
        if (_stopping)
        {
            throw new ObjectDisposedException(nameof(EventStore));
        }

        var command = new StoreCommand(StoreCommandKind.DeleteDeadLetters, Guid.Empty, []) { DeadLetterIds = ids };
        _commands.Enqueue(command);
        Wake();
        await command.Done.Task.ConfigureAwait(false);
        return command.Affected;
    }

    /// <summary>Dead letters as the store keeps them (also read by <see cref="StoreInspector"/>).</summary>
    internal static List<ClickstreamDeadLetter> ToDeadLetters(List<BsonDocument> documents)
    {
        var result = new List<ClickstreamDeadLetter>(documents.Count);
        foreach (var doc in documents)
        {
            result.Add(new ClickstreamDeadLetter
            {
                Id = doc["_id"].AsInt64,
                EventGuid = doc["g"].AsGuid,
                Type = doc["y"].AsString,
                TrackedAt = new DateTimeOffset(doc["t"].AsInt64, TimeSpan.Zero),
                DeadLetteredAt = new DateTimeOffset(doc["at"].AsInt64, TimeSpan.Zero),
                Reason = doc["r"].AsString,
                EventBytes = doc["b"].AsBinary,
            });
        }

        return result;
    }

    /// <summary>Stops the writer after it has committed what was queued, and closes the file.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _expiryTimer?.Dispose();
        _syncTimer?.Dispose();
        _wake.Release();
        _writer?.Join();
        FailQueued(new ObjectDisposedException(nameof(EventStore)));
        try
        {
            _file.Close();
        }
        catch (Exception ex)
        {
            // What is committed stays in the log and is checkpointed at the next open.
            Log.StoreOperationFailed(_logger, "close", ex);
        }

        // Only once the files are closed: a next owner must find them closed.
        _lock?.Dispose();
        _wake.Dispose();
    }

    private Task Submit(StoreCommandKind kind, Guid requestGuid, EventEnvelope[] events)
    {
        if (_stopping)
        {
            return Task.FromException(new ObjectDisposedException(nameof(EventStore)));
        }

        var command = new StoreCommand(kind, requestGuid, events);
        _commands.Enqueue(command);
        Wake();
        return command.Done.Task;
    }

    private void Wake()
    {
        // One release per batch of work, not per event: the writer resets the flag before it drains.
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _wake.Release();
        }
    }

    private void OnSyncCheck()
    {
        if (_stopping || !_unsynced)
        {
            return;
        }

        _syncDue = true;
        try
        {
            Wake();
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the wake.
        }
    }

    /// <summary>Syncs the log when commits since the last sync are only in the OS's cache (<c>DiskSyncInterval</c>).</summary>
    private void SyncIfDue()
    {
        if (!_syncDue)
        {
            return;
        }

        _syncDue = false;
        if (!_unsynced || !_file.IsOpen)
        {
            return;
        }

        try
        {
            _file.FlushLogToDisk();
            _unsynced = false;
            Interlocked.Increment(ref _counters.StoreLogSyncs);
            _counters.NotifyChanged();
        }
        catch (Exception ex)
        {
            // Nothing is lost that a killed process would keep; the next interval tries again.
            Log.StoreOperationFailed(_logger, "sync the log to disk", ex);
            Interlocked.Increment(ref _counters.StoreErrors);
        }
    }

    private void OnExpiryCheck()
    {
        if (_stopping)
        {
            return;
        }

        _expiryDue = true;
        try
        {
            Wake();
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the wake.
        }
    }

    private void OpenAtStart()
    {
        var directory = Path.GetDirectoryName(_file.Path);
        try
        {
            if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(ex);
        }

        // Before anything touches the files (leftovers, recovery, migration, moving aside): they may be another
        // pipeline's. Held until Dispose, across the reopens after IO errors and the compactions' renames.
        _lock = StoreLock.Acquire(_file.Path);
        try
        {
            _file.DeleteLeftovers();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(ex);
        }

        RestrictToOwner(_file.Path);
        RestrictToOwner(_file.LogPath);
        try
        {
            _file.Open();
            SalvageInterrupted();
            Recover();
            return;
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            _file.CloseAfterFailure();
            string movedTo;
            SalvageResult salvage;
            try
            {
                salvage = _file.ReplaceDamaged(_timeProvider.GetUtcNow(), out movedTo);
            }
            catch (Exception moveFailure)
            {
                _file.CloseAfterFailure();
                throw Unavailable(moveFailure);
            }

            Interlocked.Increment(ref _counters.StoreFilesMovedAside);
            Log.StoreMovedAside(_logger, _file.Path, ex.Message, movedTo, ex);
            CountSalvage(movedTo, salvage);
        }
        catch (Exception ex)
        {
            _file.CloseAfterFailure();
            throw Unavailable(ex);
        }

        try
        {
            // The new store, opened by ReplaceDamaged, with what could be carried over.
            Recover();
        }
        catch (Exception ex)
        {
            _file.CloseAfterFailure();
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// Salvages again the files moved aside whose salvage a crash or a power cut interrupted: their events are in
    /// neither the new store nor anywhere else a pipeline reads.
    /// </summary>
    private void SalvageInterrupted()
    {
        foreach (var unsalvaged in _file.InterruptedSalvages())
        {
            var salvage = _file.Salvage(unsalvaged, out var movedTo);
            CountSalvage(movedTo, salvage);
        }
    }

    private void CountSalvage(string movedTo, SalvageResult salvage)
    {
        Interlocked.Add(ref _counters.EventsSalvaged, salvage.Salvaged);
        Interlocked.Add(ref _counters.EventsUnreadable, salvage.Unreadable);
        Log.StoreSalvaged(_logger, movedTo, salvage.Salvaged, salvage.Unreadable);
    }

    /// <summary>
    /// The engine said the file is damaged (an internal assertion such as "page must be writable"): reopening it
    /// would fail every operation the same way, so it is replaced as a file unreadable at start is, with what can
    /// still be read carried over. Events held in memory keep their ids, so their acks still find their segments.
    /// </summary>
    private bool ReplaceDamaged(out Exception? error)
    {
        error = null;
        string movedTo;
        SalvageResult salvage;
        try
        {
            salvage = _file.ReplaceDamaged(_timeProvider.GetUtcNow(), out movedTo);
        }
        catch (Exception ex)
        {
            _file.CloseAfterFailure();
            error = ex;
            Log.StoreOperationFailed(_logger, "replace the damaged store", ex);
            Interlocked.Increment(ref _counters.StoreErrors);
            return false;
        }

        Interlocked.Increment(ref _counters.StoreFilesMovedAside);
        Log.StoreDamagedInUse(_logger, _file.Path, movedTo);
        long unreadable = 0;
        foreach (var lost in salvage.Lost)
        {
            if (FindLive(lost.FirstId) is { } live && live.FirstId == lost.FirstId)
            {
                // In memory: still sent, and its ack marks nothing in the new file.
                continue;
            }

            // On disk only, and gone: definitively failed, like an evicted event, so a flush does not wait for it.
            unreadable += lost.Pending;
            _storedEvents -= lost.Pending;
            _storedBytes -= lost.Bytes;
            Interlocked.Add(ref _counters.PendingOnDisk, -lost.Pending);
            _epochs?.Find(lost.LastId).Complete(lost.Pending);
        }

        CountSalvage(movedTo, salvage with { Unreadable = unreadable });
        _counters.NotifyChanged();
        return true;
    }

    /// <summary>
    /// A file LiteDB cannot make sense of, as opposed to one the OS will not let us read or write (permissions,
    /// a full disk, a lock held by another process): only the former is moved aside.
    /// </summary>
    private static bool IsUnreadable(Exception ex) =>
        ex is EndOfStreamException || ex is not (IOException or UnauthorizedAccessException);

    private ClickstreamStorageException Unavailable(Exception ex) =>
        new($"The store {_file.Path} ({nameof(ClickstreamOptions)}.{nameof(ClickstreamOptions.StoragePath)}) could not be opened: {ex.Message}", ex);

    private void RestrictToOwner(string path)
    {
        // Files of earlier versions were created with the default mode; the store's own are owner-only from birth.
        try
        {
            _file.Files.RestrictToOwner(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.StoreModeNotSet(_logger, path, ex);
        }
    }

    private void Recover()
    {
        MigrateLegacyLayout();
        _file.Requests.DeleteAll();
        RecoveredCount = 0;
        LastId = 0;
        _spilledFrom = -1;
        _spilledSegment = -1;
        _storedBytes = 0;
        _live.Clear();

        // Only the small heads are read: how many events are pending, their bytes, where they start and end.
        foreach (var head in _file.Segments.FindAll())
        {
            var pending = head[SegmentLayout.Count].AsInt32 - SegmentLayout.DoneCount(head);
            if (pending <= 0)
            {
                continue;
            }

            RecoveredCount += pending;
            _storedBytes += head[SegmentLayout.CountedBytes].AsInt64;
            LastId = Math.Max(LastId, head[SegmentLayout.LastId].AsInt64);
            if (_spilledSegment < 0)
            {
                _spilledSegment = head["_id"].AsInt64;
                _spilledFrom = _spilledSegment;
            }
        }

        _storedEvents = RecoveredCount;
        _counters.Recovered = RecoveredCount;
        _counters.PendingOnDisk = RecoveredCount;
    }

    /// <summary>
    /// A file of the layout before segments (one document per event, no format version) is rewritten as segments
    /// in transactions of <see cref="MigrationChunk"/> events, each deleting what it copied, so a crash half way
    /// resumes at the next open. A file of a later format version cannot be read: it is moved aside.
    /// </summary>
    private void MigrateLegacyLayout()
    {
        var database = _file.Database;
        var version = database.UserVersion;
        if (version == SegmentLayout.FormatVersion)
        {
            return;
        }

        if (version > SegmentLayout.FormatVersion)
        {
            throw new InvalidDataException($"The store has format version {version}; this version of Clickstream.Pipeline reads up to {SegmentLayout.FormatVersion}.");
        }

        if (database.CollectionExists(StoreDatabase.LegacyEventsCollection))
        {
            var legacy = database.GetCollection(StoreDatabase.LegacyEventsCollection);
            var size = _hooks?.MigrationChunk ?? MigrationChunk;
            var chunk = new List<BsonDocument>(size);
            do
            {
                // Read first, then write: no insert while a query over the same file is still open.
                chunk.Clear();
                chunk.AddRange(legacy.Find(Query.All("_id", Query.Ascending), limit: size));
                database.BeginTrans();
                foreach (var doc in chunk)
                {
                    var bytes = doc["b"].AsBinary;
                    var type = doc["y"].AsString;
                    if (_builder.IsFull(bytes.Length))
                    {
                        InsertSegment();
                    }

                    _builder.Add(doc["_id"].AsInt64, doc["g"].AsGuid, doc["t"].AsInt64, type, bytes, StorePolicy.SizeOf(bytes.Length, type.Length));
                }

                if (_builder.Count > 0)
                {
                    InsertSegment();
                }

                foreach (var doc in chunk)
                {
                    legacy.Delete(doc["_id"]);
                }

                database.Commit();

                // LiteDB's commit leaves the log in the page cache: without the sync a power cut undoes every
                // transaction since the open, and a migration cut each time never gets past its first chunks.
                _file.FlushLogToDisk();
                _hooks?.Migrated?.Invoke();
            }
            while (chunk.Count == size);

            database.DropCollection(StoreDatabase.LegacyEventsCollection);
            Log.StoreMigrated(_logger, _file.Path, version, SegmentLayout.FormatVersion);
        }

        database.UserVersion = SegmentLayout.FormatVersion;
    }

    private void Run()
    {
        try
        {
            // What an earlier run left beyond the bounds goes before anything is read back.
            EvictExpired();
            EvictOverCapacity();
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "store writer", ex);
        }

        while (true)
        {
            _wake.Wait();
            Volatile.Write(ref _signaled, 0);
            try
            {
                DrainInserts();
                DrainCommands();
                if (_expiryDue)
                {
                    _expiryDue = false;
                    EvictExpired();
                }

                LoadBacklog();
                SyncIfDue();
                CompactIfMostlyFree();
            }
            catch (Exception ex)
            {
                // Every failure is handled inside the steps; this is the last guard of the thread.
                Log.StageFailed(_logger, "store writer", ex);
            }

            if (_stopping && _inserts.IsEmpty && _commands.IsEmpty)
            {
                return;
            }
        }
    }

    /// <summary>Opens the file again if a failure closed it; false (logged, counted) when it cannot be opened.</summary>
    private bool EnsureOpen(out Exception? error)
    {
        error = null;
        if (_file.IsOpen)
        {
            return true;
        }

        if (_file.IsDamaged)
        {
            return ReplaceDamaged(out error);
        }

        try
        {
            _file.Open();
        }
        catch (Exception ex)
        {
            error = ex;
            Log.StoreOperationFailed(_logger, "reopen", ex);
            Interlocked.Increment(ref _counters.StoreErrors);
            return false;
        }

        Interlocked.Increment(ref _counters.StoreReopens);
        Log.StoreReopened(_logger);
        return true;
    }

    /// <summary>A store operation other than a commit failed: close the file (the next operation reopens it), log, count.</summary>
    private void OnFailure(string operation, Exception ex)
    {
        _file.CloseAfterFailure(ex);
        Log.StoreOperationFailed(_logger, operation, ex);
        Interlocked.Increment(ref _counters.StoreErrors);
        _counters.NotifyChanged();
    }

    private void DrainInserts()
    {
        while (true)
        {
            EventEnvelope? marker = null;
            while (_group.Count < MaxGroupSize && _inserts.TryDequeue(out var envelope))
            {
                if (envelope.Marker is not null)
                {
                    marker = envelope;
                    break;
                }

                _group.Add(envelope);
            }

            if (_group.Count > 0)
            {
                CommitGroup();
            }

            if (marker is not null)
            {
                // Everything tracked before the flush is committed and handed over: cut the batch now
                // rather than when the batch timer fires.
                _output!.Post(FlowMessage.Flush());
                continue;
            }

            if (_inserts.IsEmpty)
            {
                return;
            }
        }
    }

    private void CommitGroup()
    {
        if (!EnsureOpen(out var openError))
        {
            FailGroup(openError!);
            return;
        }

        long bytes = 0;
        _segmentEnds.Clear();
        try
        {
            _file.Database.BeginTrans();
            for (var i = 0; i < _group.Count; i++)
            {
                var e = _group[i];
                if (_builder.IsFull(e.Payload.Length))
                {
                    InsertSegment();
                    _segmentEnds.Add(i);
                }

                var size = SizeOf(e);
                _builder.Add(e.Id, e.EventGuid, e.TimestampTicks, e.TypeInfo.Type, e.Payload.Span, size);
                bytes += size;
                if (e.DeadLetterId != 0)
                {
                    // A requeued dead letter: pending again and no longer a dead letter, in one transaction.
                    _file.DeadLetters.Delete(e.DeadLetterId);
                }
            }

            InsertSegment();
            _segmentEnds.Add(_group.Count);
            _file.Database.Commit();
        }
        catch (Exception ex)
        {
            // LiteDB's engine is unusable after a failed write (its rollback throws too): close the file, and
            // the next operation opens it again, with everything committed before and nothing of this group.
            _builder.Reset();
            _file.CloseAfterFailure(ex);
            FailGroup(ex);
            return;
        }

        ClickstreamStorageException? notFlushed = null;
        _unsynced = !_flushCommitsToDisk;
        if (_flushCommitsToDisk)
        {
            try
            {
                _file.FlushLogToDisk();
            }
            catch (Exception ex)
            {
                // The group is committed (a killed process would not lose it) but may not survive power loss: its
                // events are kept and sent, and the callers are told.
                Log.StoreOperationFailed(_logger, "flush to disk", ex);
                Interlocked.Increment(ref _counters.StoreErrors);
                notFlushed = new ClickstreamStorageException(
                    $"The QoS1 event was committed but could not be flushed to the storage device ({nameof(ClickstreamOptions.FlushCommitsToDisk)}): it may be lost on power loss, and it may still be sent. {ex.Message}",
                    ex);
            }
        }

        // Before the callers are answered, as LiteDB's own checkpoint was, but after the commit: its failure is not the group's.
        CheckpointIfDue();
        _storedEvents += _group.Count;
        _storedBytes += bytes;
        HandOver();

        // Before the callers are answered: once their TrackAsync completes, the bounds hold again.
        EvictOverCapacity();
        foreach (var e in _group)
        {
            if (notFlushed is null)
            {
                e.SetCommitted();
            }
            else
            {
                e.SetFailed(notFlushed);
            }
        }

        // Counted after the hand-over: once EventsStored shows an event, the scheduler has it (or it is
        // on disk only, past the memory budget).
        Interlocked.Increment(ref _counters.StoreCommits);
        Interlocked.Add(ref _counters.Stored, _group.Count);
        Interlocked.Add(ref _counters.PendingOnDisk, _group.Count);
        _group.Clear();
        _counters.NotifyChanged();
    }

    /// <summary>Writes the segment the builder holds (payload and head) in the open transaction.</summary>
    private void InsertSegment()
    {
        var (payload, head) = _builder.Build();
        _file.Payloads.Insert(payload);
        _file.Segments.Insert(head);
    }

    private void FailGroup(Exception ex)
    {
        Log.CommitFailed(_logger, _group.Count, ex);
        Interlocked.Increment(ref _counters.StoreErrors);
        Interlocked.Add(ref _counters.StoreFailed, _group.Count);
        var failure = new ClickstreamStorageException($"The QoS1 event could not be committed to the store: {ex.Message}", ex);
        foreach (var e in _group)
        {
            // A failed event is definitively failed: it no longer holds back a flush.
            e.Epoch?.Complete(1);
            e.SetFailed(failure);
        }

        _group.Clear();
        _counters.NotifyChanged();
    }

    /// <summary>
    /// Gives the committed group to the scheduler while memory allows; the rest stays on disk only. Each segment
    /// with an event handed over is remembered, so that acks find it.
    /// </summary>
    private void HandOver()
    {
        if (_spilledFrom >= 0)
        {
            // Older events wait on disk: these must come after them, so they are read back in turn.
            return;
        }

        var count = 0;
        long bytes = 0;
        foreach (var e in _group)
        {
            var size = SizeOf(e);
            if (!_policy.FitsInMemory(_inMemory + count, _inMemoryBytes + bytes, size))
            {
                break;
            }

            count++;
            bytes += size;
        }

        var start = 0;
        foreach (var end in _segmentEnds)
        {
            if (start >= count)
            {
                // The first event on disk only is the first of this segment.
                _spilledFrom = _spilledSegment = _group[start].Id;
                break;
            }

            var ids = new long[end - start];
            long segmentBytes = 0;
            for (var i = start; i < end; i++)
            {
                ids[i - start] = _group[i].Id;
                segmentBytes += SizeOf(_group[i]);
            }

            AddLive(new Segment(ids, segmentBytes, done: null));
            if (count < end)
            {
                // Part of this segment stays on disk only.
                _spilledFrom = _group[count].Id;
                _spilledSegment = ids[0];
                break;
            }

            start = end;
        }

        if (count > 0)
        {
            _inMemory += count;
            _inMemoryBytes += bytes;
            _output!.Post(FlowMessage.Committed(CollectionsMarshal.AsSpan(_group)[..count].ToArray()));
        }
    }

    private void AddLive(Segment segment)
    {
        Debug.Assert(_live.Count == 0 || _live[^1].FirstId < segment.FirstId, "Segments come to memory in id order.");
        segment.IsLive = true;
        _live.Add(segment);
    }

    /// <summary>The segment in memory that holds the event with this id, or null.</summary>
    private Segment? FindLive(long id)
    {
        int low = 0, high = _live.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (_live[mid].FirstId <= id)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (high < 0)
        {
            return null;
        }

        var segment = _live[high];
        return segment.IsRemoved || id > segment.LastId ? null : segment;
    }

    /// <summary>Marks the event done (acknowledged, dead-lettered or evicted) in the open transaction; false when it was already, or is not stored.</summary>
    private bool MarkDone(Segment? segment, long id, long size)
    {
        var index = segment?.IndexOf(id) ?? -1;
        if (index < 0 || segment!.IsDone(index))
        {
            return false;
        }

        segment.MarkDone(index, size);
        _marks.Add(new Mark(segment, index, size));
        if (!segment.IsTouched)
        {
            segment.IsTouched = true;
            _touched.Add(segment);
        }

        return true;
    }

    /// <summary>Writes the heads of the segments touched in the open transaction, or deletes those now all done.</summary>
    private void PersistTouched()
    {
        foreach (var segment in _touched)
        {
            if (segment.AllDone)
            {
                var id = new BsonValue(segment.FirstId);
                _file.Payloads.Delete(id);
                _file.Segments.Delete(id);
            }
            else
            {
                _file.Segments.Update(segment.ToHead());
            }
        }
    }

    /// <summary>After the transaction: committed, the segments all done leave memory; failed, the marks are undone.</summary>
    private void EndTouched(bool committed)
    {
        if (!committed)
        {
            foreach (var mark in _marks)
            {
                mark.Segment.Unmark(mark.Index, mark.Size);
            }
        }

        foreach (var segment in _touched)
        {
            segment.IsTouched = false;
            if (committed && segment.AllDone && segment.IsLive)
            {
                segment.IsRemoved = true;
                _liveRemoved++;
            }
        }

        _marks.Clear();
        _touched.Clear();
        if (_liveRemoved > 64 && _liveRemoved > _live.Count / 2)
        {
            _live.RemoveAll(static s => s.IsRemoved);
            _liveRemoved = 0;
        }
    }

    private void DrainCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            _commandGroup.Add(command);
        }

        ReapplyAcks();
        if (_commandGroup.Count == 0)
        {
            return;
        }

        var deletedEvents = 0;
        long freedMemoryBytes = 0;
        Exception? failure = null;
        if (!EnsureOpen(out var openError))
        {
            failure = openError;
        }
        else
        {
            try
            {
                _file.Database.BeginTrans();
                foreach (var command in _commandGroup)
                {
                    deletedEvents += Apply(command, ref freedMemoryBytes);
                }

                PersistTouched();
                _file.Database.Commit();
            }
            catch (Exception ex)
            {
                EndTouched(committed: false);
                EndDeadLetterEviction(committed: false);
                OnFailure("request records", ex);
                failure = ex;
            }
        }

        if (failure is not null)
        {
            foreach (var command in _commandGroup)
            {
                if (command.Kind == StoreCommandKind.Acknowledge)
                {
                    ReleaseUnapplied(command);
                }

                command.Done.TrySetException(failure);
            }

            _commandGroup.Clear();
            return;
        }

        EndTouched(committed: true);
        EndDeadLetterEviction(committed: true);
        _inMemory -= deletedEvents;
        _inMemoryBytes -= freedMemoryBytes;
        _storedEvents -= deletedEvents;
        _storedBytes -= freedMemoryBytes;
        Debug.Assert(_inMemory >= 0, "More QoS1 events acknowledged than handed over.");
        _deletedSinceCompactionCheck |= deletedEvents > 0;
        Interlocked.Add(ref _counters.PendingOnDisk, -deletedEvents);

        // After the commit, so that a checkpoint that fails does not undo it; before the answers, as LiteDB's own was.
        CheckpointIfDue();
        foreach (var command in _commandGroup)
        {
            command.Done.TrySetResult();
        }

        _commandGroup.Clear();
    }

    /// <summary>
    /// An ack whose transaction failed: the server has its events, the egress counts them delivered and lets them
    /// go, so they leave the memory budget now, as they would have with the commit; on disk they are still pending
    /// (the transaction undid its marks), and the ack is applied again before the next commands. Should the
    /// process end first, they are sent again at the next start (a duplicate, which at-least-once allows).
    /// </summary>
    private void ReleaseUnapplied(StoreCommand ack)
    {
        foreach (var e in ack.Events)
        {
            var segment = e.Durable ? FindLive(e.Id) : null;
            var index = segment?.IndexOf(e.Id) ?? -1;
            if (index >= 0 && !segment!.IsDone(index))
            {
                _inMemory--;
                _inMemoryBytes -= SizeOf(e);
            }
        }

        _unappliedAcks.Add(ack);
    }

    /// <summary>
    /// Applies the acks whose transaction failed (see <see cref="ReleaseUnapplied"/>) in a transaction of their own,
    /// so that they never hold up the commands behind them; after <see cref="MaxAckAttempts"/> failures they are
    /// given up: their events stay pending on disk and are sent again at the next start.
    /// </summary>
    private void ReapplyAcks()
    {
        if (_unappliedAcks.Count == 0 || !EnsureOpen(out _))
        {
            return;
        }

        var events = 0;
        long bytes = 0;
        try
        {
            _file.Database.BeginTrans();
            foreach (var ack in _unappliedAcks)
            {
                events += Apply(ack, ref bytes);
            }

            PersistTouched();
            _file.Database.Commit();
        }
        catch (Exception ex)
        {
            EndTouched(committed: false);
            OnFailure("acknowledge again", ex);
            if (++_unappliedAttempts >= MaxAckAttempts)
            {
                _unappliedAcks.Clear();
                _unappliedAttempts = 0;
            }

            return;
        }

        // Their events left the memory budget when the ack failed; only the disk's counts change now.
        EndTouched(committed: true);
        _unappliedAcks.Clear();
        _unappliedAttempts = 0;
        _storedEvents -= events;
        _storedBytes -= bytes;
        _deletedSinceCompactionCheck |= events > 0;
        Interlocked.Add(ref _counters.PendingOnDisk, -events);
        CheckpointIfDue();
    }

    /// <summary>
    /// Runs LiteDB's checkpoint (copying the log into the data file) once the log passed its threshold, after a
    /// commit: LiteDB's own runs inside <c>Commit</c>, where its failure could not be told from a failed commit.
    /// A failure here leaves the committed transaction in the log, where the next open finds it: it is handled
    /// as any failed store operation (closed, logged, counted), never as a failed commit.
    /// </summary>
    private void CheckpointIfDue()
    {
        if (!_file.IsOpen)
        {
            return;
        }

        try
        {
            _file.CheckpointIfDue();
        }
        catch (Exception ex)
        {
            OnFailure("checkpoint", ex);
        }
    }

    /// <summary>
    /// Applies one command inside the open transaction; returns the QoS1 events it marked done (all of them held
    /// in memory) and adds their bytes.
    /// </summary>
    private int Apply(StoreCommand command, ref long freedBytes)
    {
        var id = new BsonValue(command.RequestGuid);
        switch (command.Kind)
        {
            case StoreCommandKind.BeginRequest:
                var ids = new BsonArray();
                foreach (var e in command.Events)
                {
                    if (e.Durable)
                    {
                        ids.Add(new BsonValue(e.Id));
                    }
                }

                _file.Requests.Insert(new BsonDocument { ["_id"] = id, ["e"] = ids });
                return 0;

            case StoreCommandKind.Acknowledge:
                _file.Requests.Delete(id);
                var deleted = 0;
                foreach (var e in command.Events)
                {
                    if (e.Durable && MarkDone(FindLive(e.Id), e.Id, SizeOf(e)))
                    {
                        deleted++;
                        freedBytes += SizeOf(e);
                    }
                }

                return deleted;

            case StoreCommandKind.DeadLetter:
                var refused = command.Events[0];
                var moved = MarkDone(FindLive(refused.Id), refused.Id, SizeOf(refused));
                var letter = ToDocument(refused);
                letter["r"] = command.Reason ?? string.Empty;
                letter["at"] = _timeProvider.GetUtcNow().UtcTicks;
                _file.DeadLetters.Upsert(letter);
                EvictDeadLettersOverBound();

                // The event leaves memory and the disk's pending set, like an ack. Dead letters are not counted
                // against the store's bounds: there are at most MaxDeadLetters of them.
                if (moved)
                {
                    freedBytes += SizeOf(refused);
                }

                return moved ? 1 : 0;

            case StoreCommandKind.DeleteDeadLetters:
                if (command.DeadLetterIds is null)
                {
                    command.Affected = _file.DeadLetters.DeleteAll();
                }
                else
                {
                    var deletedLetters = 0;
                    foreach (var letterId in command.DeadLetterIds)
                    {
                        deletedLetters += _file.DeadLetters.Delete(letterId) ? 1 : 0;
                    }

                    command.Affected = deletedLetters;
                }

                return 0;

            default:
                _file.Requests.Delete(id);
                return 0;
        }
    }

    /// <summary>Deletes the oldest dead letters beyond the bound, in the open transaction; counted once it commits.</summary>
    private void EvictDeadLettersOverBound()
    {
        var excess = _file.DeadLetters.LongCount() - _maxDeadLetters;
        if (excess <= 0)
        {
            return;
        }

        // Keys are event ids, so ascending keys are the oldest events. Read first, then delete: no write while a
        // query over the same collection is still open.
        var oldest = new List<BsonValue>();
        foreach (var doc in _file.DeadLetters.Find(Query.All("_id", Query.Ascending), limit: (int)Math.Min(excess, int.MaxValue)))
        {
            oldest.Add(doc["_id"]);
        }

        foreach (var key in oldest)
        {
            _deadLettersEvicted += _file.DeadLetters.Delete(key) ? 1 : 0;
        }
    }

    /// <summary>After the command transaction: the dead letters the bound evicted are counted and logged once, or forgotten if it failed.</summary>
    private void EndDeadLetterEviction(bool committed)
    {
        var evicted = _deadLettersEvicted;
        _deadLettersEvicted = 0;
        if (committed && evicted > 0)
        {
            var total = Interlocked.Add(ref _counters.DeadLettersEvicted, evicted);
            Log.DeadLettersEvicted(_logger, evicted, _maxDeadLetters, total);
        }
    }

    /// <summary>
    /// The segment of a payload read from disk: the one in memory when it is there, else built from the payload
    /// and its head (what is done already).
    /// </summary>
    private Segment SegmentOf(BsonDocument payload)
    {
        var firstId = payload["_id"].AsInt64;
        if (FindLive(firstId) is { } live && live.FirstId == firstId)
        {
            return live;
        }

        var ids = new long[_entries.Count];
        long bytes = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = _entries[i].Id;
            bytes += _entries[i].Size;
        }

        var head = _file.Segments.FindById(firstId);
        return head is null
            ? new Segment(ids, bytes, done: null)
            : new Segment(ids, head[SegmentLayout.CountedBytes].AsInt64, SegmentLayout.CheckHead(head, ids.Length));
    }

    /// <summary>
    /// Decodes a payload read from disk into <see cref="_entries"/> and finds or builds its segment; false, with the
    /// reason, when the payload or its head is corrupt (then nothing about it can be trusted but its key).
    /// </summary>
    private bool TryReadSegment(BsonDocument payload, out Segment? segment, out InvalidDataException? corrupt)
    {
        try
        {
            SegmentLayout.Decode(payload, _entries);
            segment = SegmentOf(payload);
            corrupt = null;
            return true;
        }
        catch (InvalidDataException ex)
        {
            segment = null;
            corrupt = ex;
            return false;
        }
    }

    /// <summary>
    /// Takes a segment that cannot be decoded out of the way, so that neither the backlog read nor eviction nor the
    /// next open stops at it again: its pending events on disk only are definitively failed (counted unreadable,
    /// their delivery epoch completed), and the segment is deleted, or, when some of its events are in memory
    /// (its payload decoded once, then changed on disk), those on disk only are marked done. The backlog goes on
    /// after it. False when the transaction failed (closed, logged, counted): the next pass tries again.
    /// </summary>
    private bool IsolateUnreadable(long firstId, InvalidDataException corrupt)
    {
        long events = 0;
        long bytes = 0;
        try
        {
            _file.Database.BeginTrans();
            if (FindLive(firstId) is { } live && live.FirstId == firstId)
            {
                for (var i = 0; i < live.Count; i++)
                {
                    var id = live.IdAt(i);
                    if (id >= _spilledFrom && !live.IsDone(i))
                    {
                        // The sizes are lost with the payload: the bytes left are shared evenly.
                        var size = live.CountedBytes / (live.Count - live.DoneCount);
                        MarkDone(live, id, size);
                        events++;
                        bytes += size;
                    }
                }

                PersistTouched();
            }
            else
            {
                // The head, when it can be read, says how many events and bytes the segment held.
                var head = _file.Segments.FindById(firstId);
                if (head is not null && head[SegmentLayout.Count].IsInt32 && head[SegmentLayout.CountedBytes].IsInt64)
                {
                    events = Math.Max(0, head[SegmentLayout.Count].AsInt32 - SegmentLayout.DoneCount(head));
                    bytes = Math.Max(0, head[SegmentLayout.CountedBytes].AsInt64);
                }

                _file.Payloads.Delete(firstId);
                _file.Segments.Delete(firstId);
            }

            _file.Database.Commit();
        }
        catch (Exception ex)
        {
            EndTouched(committed: false);
            OnFailure("unreadable segment", ex);
            return false;
        }

        EndTouched(committed: true);
        CheckpointIfDue();

        // Past the segment: its key is unique, and every later segment starts after its last id.
        _spilledFrom = firstId + 1;
        _spilledSegment = firstId + 1;
        _storedEvents -= events;
        _storedBytes -= bytes;
        if (events > 0)
        {
            // A group commit never spans a flush, so every event of a segment counts in the same epoch.
            _epochs!.Find(firstId).Complete((int)events);
        }

        _deletedSinceCompactionCheck = true;
        Interlocked.Add(ref _counters.PendingOnDisk, -events);
        Interlocked.Add(ref _counters.EventsUnreadable, events);
        Log.SegmentUnreadable(_logger, firstId, events, corrupt.Message, corrupt);
        _counters.NotifyChanged();
        return true;
    }

    /// <summary>Reads events that are on disk only back into memory, oldest first, once acks freed half the budget.</summary>
    private void LoadBacklog()
    {
        // Again after each unreadable segment taken out of the way, from the segment after it.
        while (LoadBacklogPart())
        {
        }
    }

    /// <summary>One pass of <see cref="LoadBacklog"/>; true when it stopped at an unreadable segment, isolated it, and the backlog goes on.</summary>
    private bool LoadBacklogPart()
    {
        if (_spilledFrom < 0 || _stopping || !_policy.HasRoomForBacklog(_inMemory, _inMemoryBytes) || !EnsureOpen(out _))
        {
            return false;
        }

        var wanted = _policy.MemoryEvents - _inMemory;
        var loaded = new List<EventEnvelope>(Math.Min(wanted, MaxGroupSize));
        long loadedBytes = 0;
        long stoppedAt = -1;
        long stoppedSegment = -1;
        long unreadable = -1;
        InvalidDataException? corrupt = null;
        try
        {
            foreach (var payload in _file.Payloads.Find(Query.GTE("_id", _spilledSegment)))
            {
                if (!TryReadSegment(payload, out var segment, out corrupt))
                {
                    // Isolated once the query is closed: LiteDB takes no write while a query over the file is open.
                    unreadable = payload["_id"].AsInt64;
                    break;
                }

                var handed = false;
                for (var i = 0; i < _entries.Count && stoppedAt < 0; i++)
                {
                    var entry = _entries[i];
                    if (entry.Id < _spilledFrom || segment!.IsDone(i))
                    {
                        continue;
                    }

                    var size = entry.Size;
                    if (loaded.Count == wanted || !_policy.FitsInMemory(_inMemory + loaded.Count, _inMemoryBytes + loadedBytes, size))
                    {
                        stoppedAt = entry.Id;
                        stoppedSegment = segment.FirstId;
                        break;
                    }

                    var e = new EventEnvelope(_types!.GetStored(entry.Type), entry.CopyBytes(), entry.Id, entry.EventGuid, entry.TimestampTicks);
                    e.Epoch = _epochs!.Find(e.Id);
                    loaded.Add(e);
                    loadedBytes += size;
                    handed = true;
                }

                if (handed && !segment!.IsLive)
                {
                    AddLive(segment);
                }

                if (stoppedAt >= 0)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            OnFailure("backlog read", ex);
            return false;
        }

        if (loaded.Count > 0)
        {
            _inMemory += loaded.Count;
            _inMemoryBytes += loadedBytes;
            _output!.Post(FlowMessage.Committed(loaded.ToArray()));
        }

        if (unreadable >= 0)
        {
            // Every event before the unreadable segment is in memory now; the isolation moves past it.
            if (loaded.Count > 0)
            {
                _spilledFrom = Math.Max(_spilledFrom, loaded[^1].Id + 1);
            }

            return IsolateUnreadable(unreadable, corrupt!);
        }

        // Every event the writer committed is in the file: reaching the end without stopping means the backlog is read.
        _spilledFrom = stoppedAt;
        _spilledSegment = stoppedSegment;
        return false;
    }

    private void EvictOverCapacity()
    {
        if (_policy.IsOverCapacity(_storedEvents, _storedBytes))
        {
            Evict(expiredBefore: null);
        }
    }

    private void EvictExpired()
    {
        var expiredBefore = _policy.ExpiredBefore(_timeProvider.GetUtcNow());
        if (expiredBefore != long.MinValue)
        {
            Evict(expiredBefore);
        }
    }

    /// <summary>
    /// Marks done the oldest events on disk only, one transaction per chunk, while they are expired
    /// (<paramref name="expiredBefore"/>) or, without it, while the store is above its eviction target; a segment
    /// left with nothing pending is deleted. The evicted events are definitively failed: their delivery epochs
    /// are completed, so a flush does not wait for them.
    /// </summary>
    /// <remarks>
    /// Only events on disk only are evicted, never those handed to the scheduler, although these are older:
    /// they may be in a request in flight (the server may have them already), and only the egress can take an
    /// event out of a batch, retry or ack, where an eviction would race with the ack over its epoch. So memory
    /// holds at most half of each bound (<see cref="StorePolicy"/>), and what has to go is always on disk. The
    /// cost: up to <see cref="StorePolicy.MemoryEvents"/> events, the next to be sent, outlive their time to
    /// live during a long outage.
    /// </remarks>
    private void Evict(long? expiredBefore)
    {
        long total = 0;
        var chunkFull = true;
        while (chunkFull && _spilledFrom >= 0 && EnsureOpen(out _))
        {
            _evicted.Clear();
            long bytes = 0;
            long next = -1;
            long nextSegment = -1;
            long unreadable = -1;
            InvalidDataException? corrupt = null;
            chunkFull = false;
            try
            {
                foreach (var payload in _file.Payloads.Find(Query.GTE("_id", _spilledSegment)))
                {
                    if (!TryReadSegment(payload, out var segment, out corrupt))
                    {
                        // Evicted up to it in this chunk, then isolated once the query is closed.
                        unreadable = payload["_id"].AsInt64;

                        // A segment partly in memory starts before _spilledFrom: its events in memory stay there.
                        next = Math.Max(_spilledFrom, unreadable);
                        nextSegment = unreadable;
                        chunkFull = true;
                        break;
                    }

                    for (var i = 0; i < _entries.Count && next < 0; i++)
                    {
                        var entry = _entries[i];
                        if (entry.Id < _spilledFrom || segment!.IsDone(i))
                        {
                            continue;
                        }

                        var goes = expiredBefore is { } before
                            ? entry.TimestampTicks < before
                            : _policy.IsAboveTarget(_storedEvents - _evicted.Count, _storedBytes - bytes);
                        if (!goes || _evicted.Count == EvictionChunk)
                        {
                            next = entry.Id;
                            nextSegment = segment.FirstId;
                            chunkFull = goes;
                            break;
                        }

                        MarkDone(segment, entry.Id, entry.Size);
                        _evicted.Add(entry.Id);
                        _hooks?.Evicting?.Invoke(entry.Data.AsMemory(entry.Offset, entry.Length));
                        bytes += entry.Size;
                    }

                    if (next >= 0)
                    {
                        break;
                    }
                }

                if (_evicted.Count > 0)
                {
                    _file.Database.BeginTrans();
                    PersistTouched();
                    _file.Database.Commit();
                }
            }
            catch (Exception ex)
            {
                EndTouched(committed: false);
                OnFailure("eviction", ex);
                break;
            }

            if (_evicted.Count == 0 && unreadable < 0)
            {
                break;
            }

            EndTouched(committed: true);
            CheckpointIfDue();

            // -1 when every event on disk only went: the next commit can go to memory again.
            _spilledFrom = next;
            _spilledSegment = nextSegment;
            _storedEvents -= _evicted.Count;
            _storedBytes -= bytes;
            total += _evicted.Count;
            Interlocked.Add(ref _counters.PendingOnDisk, -_evicted.Count);
            Interlocked.Add(ref expiredBefore is null ? ref _counters.EvictedOverCapacity : ref _counters.EvictedExpired, _evicted.Count);
            CompleteEvicted();
            if (unreadable >= 0 && !IsolateUnreadable(unreadable, corrupt!))
            {
                break;
            }
        }

        if (total > 0)
        {
            _deletedSinceCompactionCheck = true;
            Log.EventsEvicted(_logger, total, expiredBefore is null ? "over capacity" : "expired", _storedEvents, _storedBytes);
            _counters.NotifyChanged();
        }
    }

    /// <summary>Completes the delivery epochs of the events just evicted, one call per run of the same epoch.</summary>
    private void CompleteEvicted()
    {
        DeliveryEpoch? run = null;
        var count = 0;
        foreach (var id in _evicted)
        {
            // Found by id, under the epochs' lock: an epoch sealed meanwhile ends exactly where the flush put it.
            var epoch = _epochs!.Find(id);
            if (!ReferenceEquals(epoch, run))
            {
                run?.Complete(count);
                run = epoch;
                count = 0;
            }

            count++;
        }

        run?.Complete(count);
    }

    /// <summary>Rewrites the file when it is mostly free space, rarely: only after deletions, and see <see cref="StorePolicy.ShouldCompact"/>.</summary>
    private void CompactIfMostlyFree()
    {
        if (!_deletedSinceCompactionCheck || _stopping || !_file.IsOpen)
        {
            return;
        }

        _deletedSinceCompactionCheck = false;
        var before = _file.DataLength;
        if (!_policy.ShouldCompact(before, _storedBytes, _lastCompactedLength))
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            _file.Compact();
        }
        catch (Exception ex)
        {
            // Not tried again before the file has doubled.
            _lastCompactedLength = before;
            Log.StoreCompactionFailed(_logger, ex);
            Interlocked.Increment(ref _counters.StoreErrors);
            _counters.NotifyChanged();
            return;
        }

        _lastCompactedLength = _file.DataLength;
        Interlocked.Increment(ref _counters.StoreCompactions);
        _hooks?.Compacted?.Invoke();
        Log.StoreCompacted(_logger, before, _lastCompactedLength, _storedEvents, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _counters.NotifyChanged();
    }

    private static long SizeOf(EventEnvelope e) => StorePolicy.SizeOf(e.Payload.Length, e.TypeInfo.Type.Length);

    private static BsonDocument ToDocument(EventEnvelope e) => new()
    {
        ["_id"] = e.Id,
        ["g"] = e.EventGuid,
        ["t"] = e.TimestampTicks,
        ["y"] = e.TypeInfo.Type,
        ["b"] = e.Bytes,
    };

    private void FailQueued(Exception exception)
    {
        while (_inserts.TryDequeue(out var e))
        {
            if (e.Marker is null)
            {
                e.SetFailed(exception);
            }
        }

        while (_commands.TryDequeue(out var command))
        {
            command.Done.TrySetException(exception);
        }
    }

    /// <summary>An event marked done in the open transaction, to undo if it fails.</summary>
    private readonly record struct Mark(Segment Segment, int Index, long Size);
}
