using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Scheduling;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// The head of the flow: stamps each event (id, UUIDv7, time, delivery epoch) and routes it, QoS1 to the
/// store, QoS0 to the scheduler. A flush marker seals the delivery epoch where it passes and follows the
/// QoS1 events to the store. One work item at a time drains what callers posted, so ids grow in arrival
/// order.
/// </summary>
/// <remarks>
/// <para>
/// Not a Dataflow block: a caller's <see cref="Post"/> is one short lock (append to a list) and, when the
/// processor is idle, one thread-pool work item; the processor swaps the list for an empty one and stamps the
/// whole run outside the lock, then hands the run's QoS0 events to the scheduler with one call. A
/// <c>TransformBlock</c> held its lock longer per event and the callers spun on it (with 4 producers its
/// <c>Post</c> was 12.9% of the sampled thread time, against 2.1% for this lock; dotnet-trace).
/// </para>
/// <para>
/// QoS0 events do not wake the processor one by one: nobody waits for them, and they would only wait in the open
/// batch. They collect in the list until they would fill a batch (by count or bytes: the scheduler would cut it
/// now) or until the batch delay after the first of them (a timer, armed once); then one drain routes them all and,
/// on the timer, cuts the open batch. A QoS1 event or a flush marker wakes the processor at once. Waking a pool
/// thread per event cost more CPU than the event's whole delivery (the idle worker spins, then sleeps again).
/// </para>
/// </remarks>
internal sealed class EventProcessor : IThreadPoolWorkItem, IDisposable
{
    private readonly Lock _lock = new();
    private readonly DeliveryEpochs _epochs;
    private readonly TimeProvider _timeProvider;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;
    private readonly Action<EventEnvelope> _store;
    private readonly EventScheduler _scheduler;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _lingerTimer;
    private readonly TimeSpan _maxDelay;
    private readonly int _batchSize;
    private readonly long _wakeBytes;

    // Ids and UUIDs are only touched by the one running drain; the lock hand-over orders successive drains.
    private readonly Random _random = new();
    private long _lastId;

    // Callers append to _incoming under the lock; the drain swaps it with the empty _draining list.
    private List<EventEnvelope> _incoming = [];
    private List<EventEnvelope> _draining = [];
    private bool _scheduled;
    private bool _completed;

    // QoS0 events appended since the last drain took the list, while no drain was scheduled; the linger timer is
    // armed for the first of them; when it fires, the drain also cuts the scheduler's open batch.
    private int _deferredCount;
    private long _deferredBytes;
    private bool _lingerArmed;
    private bool _cutAfterDrain;

    public EventProcessor(
        long lastId,
        DeliveryEpochs epochs,
        TimeProvider timeProvider,
        PipelineCounters counters,
        ILogger logger,
        Action<EventEnvelope> store,
        EventScheduler scheduler,
        int maxBatchSize,
        int maxBatchBytes,
        TimeSpan maxDelay)
    {
        _lastId = lastId;
        _epochs = epochs;
        _timeProvider = timeProvider;
        _counters = counters;
        _logger = logger;
        _store = store;
        _scheduler = scheduler;
        _batchSize = maxBatchSize;
        _wakeBytes = maxBatchBytes;
        _maxDelay = maxDelay;
        _lingerTimer = timeProvider.CreateTimer(static s => ((EventProcessor)s!).OnLinger(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The most QoS0 events that wait for one drain when a batch is larger, so that one drain's run stays short. At
    /// the default batch size (500) QoS0 events wake the processor once per batch.
    /// </summary>
    internal const int MaxDeferredEvents = 1024;

    /// <summary>Completes once <see cref="Complete"/> was called and everything posted before has been routed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Accepts an event or a marker; false once the processor is completed (the pipeline is disposed).</summary>
    public bool Post(EventEnvelope envelope)
    {
        // The event's time is when it was tracked, not when a (possibly deferred) drain stamps its id.
        if (envelope.Marker is null)
        {
            envelope.TimestampTicks = _timeProvider.GetUtcNow().UtcTicks;
        }

        var armLinger = false;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _incoming.Add(envelope);
            if (_scheduled)
            {
                return true;
            }

            if (envelope.Marker is null && !envelope.Durable && Defer(envelope.WireSize))
            {
                if (_lingerArmed)
                {
                    return true;
                }

                _lingerArmed = armLinger = true;
            }
            else
            {
                _scheduled = true;
            }
        }

        if (armLinger)
        {
            // Outside the lock: a timer firing early (armed late after a drain took the events) only cuts a batch early.
            _lingerTimer.Change(_maxDelay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        return true;
    }

    /// <summary>No more input; <see cref="Completion"/> completes once everything posted has been routed.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (_scheduled)
            {
                // The running drain completes it when it finds nothing left.
                return;
            }

            if (_incoming.Count > 0)
            {
                // Deferred QoS0 events: one last drain routes them, then completes.
                _scheduled = true;
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return;
            }
        }

        _completion.TrySetResult();
    }

    public void Dispose() => _lingerTimer.Dispose();

    /// <summary>
    /// Called by the scheduler after events from elsewhere (the store, a retry, the held queue) went into its open
    /// batch: when the deferred QoS0 events would now complete the batch, drain them so that it is cut by size.
    /// </summary>
    public void WakeIfBatchFull(int openCount, long openBytes)
    {
        // Pairs with the fence in Defer: one of the two sides sees the other's increment.
        Interlocked.MemoryBarrier();
        var deferred = Volatile.Read(ref _deferredCount);
        if (deferred == 0 || (deferred + openCount < _batchSize && Volatile.Read(ref _deferredBytes) + openBytes < _wakeBytes))
        {
            return;
        }

        lock (_lock)
        {
            if (_scheduled || _incoming.Count == 0)
            {
                return;
            }

            _scheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>
    /// Counts one more deferred QoS0 event (under the lock, no drain scheduled) and tells whether it may wait: not
    /// when the deferred events, with what the scheduler's open batch holds, would fill a batch by count or bytes
    /// (the scheduler would cut it now), nor past <see cref="MaxDeferredEvents"/>.
    /// </summary>
    private bool Defer(int wireSize)
    {
        Volatile.Write(ref _deferredCount, _deferredCount + 1);
        Volatile.Write(ref _deferredBytes, _deferredBytes + wireSize);

        // Pairs with the fence in WakeIfBatchFull (the scheduler fed events from elsewhere meanwhile).
        Interlocked.MemoryBarrier();
        return _deferredCount < MaxDeferredEvents
            && _deferredCount + _scheduler.OpenCount < _batchSize
            && _deferredBytes + _scheduler.OpenBytes < _wakeBytes;
    }

    /// <summary>The batch delay passed since the first deferred QoS0 event: drain them all, then cut the open batch.</summary>
    private void OnLinger()
    {
        lock (_lock)
        {
            _lingerArmed = false;
            _cutAfterDrain = true;
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Writes a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, variant 10, 74 random bits.</summary>
    /// <remarks>
    /// <see cref="Guid.CreateVersion7(DateTimeOffset)"/> draws its random bits from the OS generator, a system call
    /// per event; an id needs uniqueness, not unpredictability, so a <see cref="Random"/> seeded by the OS does.
    /// </remarks>
    internal static Guid NewUuidV7(long unixMilliseconds, Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes[6..]);
        BinaryPrimitives.WriteInt64BigEndian(bytes[..8], (unixMilliseconds << 16) | BinaryPrimitives.ReadUInt16BigEndian(bytes[6..8]));
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (TryTakeRun(out var run))
        {
            Route(run);
            run.Clear();
        }
    }

    /// <summary>Swaps the callers' list for the empty one; when there is nothing, marks the processor idle (and completes it after <see cref="Complete"/>).</summary>
    private bool TryTakeRun(out List<EventEnvelope> run)
    {
        bool completed;
        bool cut;
        lock (_lock)
        {
            Volatile.Write(ref _deferredCount, 0);
            Volatile.Write(ref _deferredBytes, 0);
            if (_incoming.Count > 0)
            {
                run = _incoming;
                _incoming = _draining;
                _draining = run;
                return true;
            }

            _scheduled = false;
            completed = _completed;
            cut = _cutAfterDrain;
            _cutAfterDrain = false;
        }

        if (cut)
        {
            _scheduler.CutForFlush();
        }

        if (completed)
        {
            _completion.TrySetResult();
        }

        run = _draining;
        return false;
    }

    private void Route(List<EventEnvelope> run)
    {
        var events = CollectionsMarshal.AsSpan(run);

        // QoS0 events go to the scheduler in runs, one lock there per run; a marker or a QoS1 event ends a run
        // so that the scheduler sees QoS0 events before the flush marker that follows them.
        var instantStart = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var envelope = events[i];
            Stamp(envelope);
            if (envelope.Route == EventRoute.Scheduler)
            {
                continue;
            }

            if (i > instantStart)
            {
                _scheduler.EnqueueInstant(events[instantStart..i]);
            }

            instantStart = i + 1;
            if (envelope.Route == EventRoute.Store)
            {
                _store(envelope);
            }
        }

        if (events.Length > instantStart)
        {
            _scheduler.EnqueueInstant(events[instantStart..]);
        }
    }

    private void Stamp(EventEnvelope envelope)
    {
        // Nothing may escape: an exception would stop the drain and strand the events behind it.
        try
        {
            if (envelope.Marker is { } marker)
            {
                var sealedEpoch = _epochs.Seal(_lastId);
                marker.SetSealed(sealedEpoch.Completion);
                envelope.Route = EventRoute.Store;
                return;
            }

            if (envelope.DeadLetterId == 0)
            {
                // A requeued dead letter was counted when it was tracked.
                envelope.TypeInfo.CountTracked();
            }

            // A QoS0 caller was answered when the event was accepted; only a QoS1 caller still waits, and
            // its event is neither stored nor sent once its token is cancelled.
            if (envelope.Durable && envelope.CancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _counters.Cancelled);
                envelope.Route = EventRoute.Discard;
                envelope.SetFailed(new OperationCanceledException(envelope.CancellationToken));
                return;
            }

            envelope.Id = ++_lastId;
            envelope.EventGuid = NewUuidV7((envelope.TimestampTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond, _random);
            var epoch = _epochs.Current;
            epoch.Add();
            envelope.Epoch = epoch;
            envelope.Route = envelope.Durable ? EventRoute.Store : EventRoute.Scheduler;
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "processor", ex);
            envelope.Route = EventRoute.Discard;
            if (envelope.Durable)
            {
                envelope.SetFailed(ex);
            }
        }
    }
}
