using System.Collections.Concurrent;
using System.Diagnostics;
using Clickstream.Pipeline.Diagnostics;
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
/// Layout (raw <see cref="BsonDocument"/>, no mapper): <c>events</c> keyed by the event's monotonically
/// increasing id; <c>requests</c> holding one record per batch in flight, <c>_id</c> = req_guid, naming its
/// event ids. An ack deletes the record and its events in one transaction, by primary key.
/// <para>
/// Committed events are handed to the scheduler while fewer than <c>MaxInMemoryStoredEvents</c> are in
/// memory; beyond that they stay on disk only, and the writer reads them back in id order as acks free
/// room. A restart is the same case: everything on disk is read back that way, never all at once.
/// </para>
/// </remarks>
internal sealed class EventStore : IDisposable
{
    private const string EventsCollection = "events";
    private const string RequestsCollection = "requests";
    private const string DeadLettersCollection = "deadletters";

    /// <summary>Dead letters kept at most; the oldest go first. Enough to inspect a bad producer, small enough to never matter for disk.</summary>
    internal const int MaxDeadLetters = 10_000;
    private const int MaxGroupSize = 8192;

    private readonly ConcurrentQueue<EventEnvelope> _inserts = new();
    private readonly ConcurrentQueue<StoreCommand> _commands = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<EventEnvelope> _group = new(MaxGroupSize);
    private readonly List<StoreCommand> _commandGroup = [];
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument> _events;
    private readonly ILiteCollection<BsonDocument> _requests;
    private readonly ILiteCollection<BsonDocument> _deadLetters;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;
    private readonly int _memoryBudget;
    private readonly TimeProvider _timeProvider;
    private Thread? _writer;
    private EventScheduler? _scheduler;
    private DeliveryEpochs? _epochs;
    private EventTypeRegistry? _types;
    private int _signaled;
    private volatile bool _stopping;

    // Writer-thread state: QoS1 events handed to the scheduler and not yet acknowledged, and the first id
    // that is on disk only (-1 when every committed event is in memory).
    private int _inMemory;
    private long _spilledFrom = -1;

    private EventStore(LiteDatabase db, PipelineCounters counters, ILogger logger, int memoryBudget, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _db = db;
        _events = db.GetCollection(EventsCollection, BsonAutoId.Int64);
        _requests = db.GetCollection(RequestsCollection, BsonAutoId.Guid);
        _deadLetters = db.GetCollection(DeadLettersCollection, BsonAutoId.Int64);
        _counters = counters;
        _logger = logger;
        _memoryBudget = memoryBudget;
    }

    /// <summary>QoS1 events found at open, left by an earlier run.</summary>
    public long RecoveredCount { get; private set; }

    /// <summary>The largest event id in the file at open (0 when empty): new ids continue after it.</summary>
    public long LastId { get; private set; }

    /// <summary>Opens (or creates) the file and forgets the request records of an earlier run: their events are pending again.</summary>
    public static EventStore Open(string path, int memoryBudget, PipelineCounters counters, ILogger logger, TimeProvider timeProvider)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        try
        {
            var store = new EventStore(db, counters, logger, memoryBudget, timeProvider);
            store.Recover();
            return store;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Starts the writer thread; from now on it hands committed events to <paramref name="scheduler"/>.</summary>
    public void Start(EventScheduler scheduler, DeliveryEpochs epochs, EventTypeRegistry types)
    {
        _scheduler = scheduler;
        _epochs = epochs;
        _types = types;

        // A background thread: the store must never keep the app's process alive.
        _writer = new Thread(Run) { IsBackground = true, Name = "Clickstream store writer" };
        _writer.Start();
        Wake();
    }

    /// <summary>Queues a QoS1 event (or a flush marker) for the next group commit.</summary>
    public void Enqueue(EventEnvelope envelope)
    {
        _inserts.Enqueue(envelope);
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

    /// <summary>The newest dead letters first, at most <paramref name="max"/>. LiteDB reads are safe beside the writer.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadDeadLetters(int max)
    {
        var result = new List<ClickstreamDeadLetter>();
        foreach (var doc in _deadLetters.Find(Query.All("_id", Query.Descending), limit: max))
        {
            result.Add(new ClickstreamDeadLetter(
                doc["g"].AsGuid,
                doc["y"].AsString,
                new DateTimeOffset(doc["t"].AsInt64, TimeSpan.Zero),
                new DateTimeOffset(doc["at"].AsInt64, TimeSpan.Zero),
                doc["r"].AsString,
                doc["b"].AsBinary));
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
        _wake.Release();
        _writer?.Join();
        FailQueued(new ObjectDisposedException(nameof(EventStore)));
        _db.Dispose();
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

    private void Recover()
    {
        _requests.DeleteAll();
        RecoveredCount = _events.LongCount();
        if (RecoveredCount > 0)
        {
            LastId = _events.Find(Query.All("_id", Query.Descending), limit: 1).First()["_id"].AsInt64;
            _spilledFrom = _events.Find(Query.All("_id", Query.Ascending), limit: 1).First()["_id"].AsInt64;
        }

        _counters.Recovered = RecoveredCount;
        _counters.PendingOnDisk = RecoveredCount;
    }

    private void Run()
    {
        while (true)
        {
            _wake.Wait();
            Volatile.Write(ref _signaled, 0);
            try
            {
                DrainInserts();
                DrainCommands();
                LoadBacklog();
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
                _scheduler!.CutForFlush();
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
        try
        {
            _db.BeginTrans();
            foreach (var e in _group)
            {
                _events.Insert(ToDocument(e));
            }

            _db.Commit();
        }
        catch (Exception ex)
        {
            TryRollback();
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
            return;
        }

        foreach (var e in _group)
        {
            e.SetCommitted();
        }

        HandOver();

        // Counted after the hand-over: once EventsStored shows an event, the scheduler has it (or it is
        // on disk only, past the memory budget).
        Interlocked.Increment(ref _counters.StoreCommits);
        Interlocked.Add(ref _counters.Stored, _group.Count);
        Interlocked.Add(ref _counters.PendingOnDisk, _group.Count);
        _group.Clear();
        _counters.NotifyChanged();
    }

    /// <summary>Gives the committed group to the scheduler while memory allows; the rest stays on disk only.</summary>
    private void HandOver()
    {
        if (_spilledFrom >= 0)
        {
            // Older events wait on disk: these must come after them, so they are read back in turn.
            return;
        }

        var room = Math.Max(0, _memoryBudget - _inMemory);
        var count = Math.Min(room, _group.Count);
        if (count < _group.Count)
        {
            _spilledFrom = _group[count].Id;
        }

        if (count > 0)
        {
            _inMemory += count;
            _scheduler!.EnqueueRange(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_group)[..count]);
        }
    }

    private void DrainCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            _commandGroup.Add(command);
        }

        if (_commandGroup.Count == 0)
        {
            return;
        }

        var acknowledgedEvents = 0;
        try
        {
            _db.BeginTrans();
            foreach (var command in _commandGroup)
            {
                acknowledgedEvents += Apply(command);
            }

            _db.Commit();
        }
        catch (Exception ex)
        {
            TryRollback();
            Log.StoreOperationFailed(_logger, "request records", ex);
            Interlocked.Increment(ref _counters.StoreErrors);
            foreach (var command in _commandGroup)
            {
                command.Done.TrySetException(ex);
            }

            _commandGroup.Clear();
            return;
        }

        _inMemory -= acknowledgedEvents;
        Debug.Assert(_inMemory >= 0, "More QoS1 events acknowledged than handed over.");
        Interlocked.Add(ref _counters.PendingOnDisk, -acknowledgedEvents);
        foreach (var command in _commandGroup)
        {
            command.Done.TrySetResult();
        }

        _commandGroup.Clear();
    }

    /// <summary>Applies one command inside the open transaction; returns the QoS1 events it deleted.</summary>
    private int Apply(StoreCommand command)
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

                _requests.Insert(new BsonDocument { ["_id"] = id, ["e"] = ids });
                return 0;

            case StoreCommandKind.Acknowledge:
                _requests.Delete(id);
                var deleted = 0;
                foreach (var e in command.Events)
                {
                    if (e.Durable && _events.Delete(new BsonValue(e.Id)))
                    {
                        deleted++;
                    }
                }

                return deleted;

            case StoreCommandKind.DeadLetter:
                var refused = command.Events[0];
                var moved = _events.Delete(new BsonValue(refused.Id));
                var letter = ToDocument(refused);
                letter["r"] = command.Reason ?? string.Empty;
                letter["at"] = _timeProvider.GetUtcNow().UtcTicks;
                _deadLetters.Upsert(letter);
                if (_deadLetters.LongCount() > MaxDeadLetters)
                {
                    var oldest = _deadLetters.Find(Query.All("_id", Query.Ascending), limit: 1).First()["_id"];
                    _deadLetters.Delete(oldest);
                }

                // The event leaves memory and the disk's pending set, like an ack.
                return moved ? 1 : 0;

            default:
                _requests.Delete(id);
                return 0;
        }
    }

    /// <summary>Reads events that are on disk only back into memory, oldest first, once acks freed half the budget.</summary>
    private void LoadBacklog()
    {
        if (_spilledFrom < 0 || _stopping || _inMemory > _memoryBudget / 2)
        {
            return;
        }

        var wanted = _memoryBudget - _inMemory;
        var loaded = new List<EventEnvelope>(Math.Min(wanted, MaxGroupSize));
        try
        {
            foreach (var doc in _events.Find(Query.GTE("_id", _spilledFrom), limit: wanted))
            {
                var e = FromDocument(doc);
                e.Epoch = _epochs!.Find(e.Id);
                loaded.Add(e);
            }
        }
        catch (Exception ex)
        {
            Log.StoreOperationFailed(_logger, "backlog read", ex);
            Interlocked.Increment(ref _counters.StoreErrors);
            return;
        }

        // Every event the writer committed is in the file: fewer than wanted means the backlog is read.
        _spilledFrom = loaded.Count < wanted ? -1 : loaded[^1].Id + 1;
        if (loaded.Count > 0)
        {
            _inMemory += loaded.Count;
            _scheduler!.EnqueueRange(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(loaded));
        }
    }

    private static BsonDocument ToDocument(EventEnvelope e) => new()
    {
        ["_id"] = e.Id,
        ["g"] = e.EventGuid,
        ["t"] = e.TimestampTicks,
        ["y"] = e.TypeInfo.Type,
        ["b"] = e.Bytes,
    };

    private EventEnvelope FromDocument(BsonDocument doc) => new(
        _types!.GetStored(doc["y"].AsString),
        doc["b"].AsBinary,
        doc["_id"].AsInt64,
        doc["g"].AsGuid,
        doc["t"].AsInt64);

    private void TryRollback()
    {
        try
        {
            _db.Rollback();
        }
        catch (Exception ex)
        {
            Log.StoreOperationFailed(_logger, "rollback", ex);
        }
    }

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
}
