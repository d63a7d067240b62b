using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// The scheduler stage: a block that takes chunks of events (QoS0 from the processor, QoS1 from the store, failed
/// batches back from the egress) and gives batches, cut by <see cref="BatchCutter"/> at <c>MaxBatchSize</c> events,
/// before <c>MaxBatchBytes</c>, <c>MaxTimeBetweenTwoBatches</c> after a batch's first event (a
/// <see cref="TimeProvider"/> timer that posts a <see cref="FlowMessageKind.Timer"/> message; for a QoS0 event the time
/// counts from its <c>TrackAsync</c>, as the ingress may hold it a little), and at a flush.
/// While the reachability gate is closed nothing is cut: events are held, in order, and fed when it opens.
/// </summary>
/// <remarks>
/// One message at a time (a <see cref="TransformManyBlock{TInput,TOutput}"/> with one degree of parallelism), so
/// the batching state needs no lock: the timer, the gate and the retries reach it as messages, behind the events
/// that came before them.
/// </remarks>
internal sealed class EventScheduler : IDisposable
{
    private readonly TransformManyBlock<FlowMessage, EventEnvelope[]> _block;
    private readonly BatchCutter _cutter;
    private readonly ITimer _timer;
    private readonly TimeSpan _maxDelay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InstantBudget? _budget;
    private readonly ChunkPool? _chunks;
    private readonly PipelineCounters _counters;
    private readonly Lock _gateLock = new();
    private Action<bool>? _gateChanged;
    private long _armed;
    private int _heldCount;
    private long _instantReceived;
    private long _instantSettled;
    private long _openStartTicks;
    private readonly List<FlushMarker> _flushes = [];

    public EventScheduler(
        int maxBatchSize,
        int maxBatchBytes,
        TimeSpan maxDelay,
        TimeProvider timeProvider,
        ILogger logger,
        InstantBudget? budget = null,
        PipelineCounters? counters = null,
        TaskScheduler? taskScheduler = null,
        ChunkPool? chunks = null)
    {
        // budget: with DropOldest, the held QoS0 events are dropped, oldest first, while it is over. taskScheduler: where the block runs; tests pass
        // one that runs each message at once, on the poster's thread. chunks: where the ingress's chunks go back once read.
        _budget = budget;
        _chunks = chunks;
        _counters = counters ?? new PipelineCounters();
        _cutter = new BatchCutter(maxBatchSize, maxBatchBytes);
        _maxDelay = maxDelay;
        _time = timeProvider;
        MaxBatchSize = maxBatchSize;
        _logger = logger;
        _timer = timeProvider.CreateTimer(static s => ((EventScheduler)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _block = new TransformManyBlock<FlowMessage, EventEnvelope[]>(Handle, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, TaskScheduler = taskScheduler ?? TaskScheduler.Default });
    }

    /// <summary>Where events, flushes, retries, timer ticks and gate changes come in.</summary>
    public ITargetBlock<FlowMessage> Input => _block;

    /// <summary>The batches, in the order they were cut.</summary>
    public ISourceBlock<EventEnvelope[]> Output => _block;

    /// <summary>Completes once <see cref="Complete"/> was called and the batches cut before were taken.</summary>
    public Task Completion => _block.Completion;

    /// <summary>The most events one batch holds.</summary>
    public int MaxBatchSize { get; }

    /// <summary>How long a batch waits for more events: counted from its first event's TrackAsync for QoS0.</summary>
    public TimeSpan MaxDelay => _maxDelay;

    /// <summary>
    /// QoS0 events received from the processor so far, less the events in the open batch, as of the last message
    /// handled: one figure, so that a reader never sees one half of it moved and not the other. What an ingress has
    /// forwarded beyond it is what the open batch will hold once it has it all, a multiple of <see cref="MaxBatchSize"/>
    /// more when batches are cut by count on the way; a QoS1 event in the open batch takes room from it too.
    /// </summary>
    public long InstantSettled => Volatile.Read(ref _instantSettled);

    /// <summary>Events waiting here while the network is unreachable.</summary>
    public int HeldCount => Volatile.Read(ref _heldCount);

    /// <summary>
    /// Tells <paramref name="handler"/> the reachability gate now and at every change, in the scheduler's turn and,
    /// when it opens, before the held events are fed (the egress sends the batches waiting at the gate first, so the
    /// backlog goes out oldest first). Set once.
    /// </summary>
    public void WatchGate(Action<bool> handler)
    {
        // Under the gate lock: a change handled meanwhile is told after the current state, never lost.
        lock (_gateLock)
        {
            _gateChanged = handler;
            handler(_cutter.IsOpen);
        }
    }

    /// <summary>The reachability signal: while false, no batch is cut.</summary>
    public void SetReachable(bool reachable) => _block.Post(FlowMessage.Gate(reachable));

    /// <summary>No more input; the timer stops.</summary>
    public void Complete()
    {
        _block.Complete();
        _timer.Dispose();
    }

    public void Dispose() => Complete();

    private IEnumerable<EventEnvelope[]> Handle(FlowMessage message)
    {
        List<EventEnvelope[]> cut = [];
        switch (message.Kind)
        {
            case FlowMessageKind.Instant:
                Add(message.Events, cut, fromIngress: true);

                // The ingress's chunk: its events are in the cutter now, and nothing else holds it.
                if (!_cutter.Recycle(message.Events))
                {
                    _chunks?.Return(message.Events);
                }

                break;
            case FlowMessageKind.Committed:
            case FlowMessageKind.Retry:
                Add(message.Events, cut, fromIngress: false);
                if (FlushWaits())
                {
                    _cutter.Cut(cut);
                }

                break;
            case FlowMessageKind.Flush:
                _cutter.Cut(cut);
                if (message.Events is [{ Marker: { Ended: false } marker }])
                {
                    _flushes.Add(marker);
                }

                break;
            case FlowMessageKind.Timer:
                _cutter.CutIfTimed(message.Generation, cut);
                break;
            case FlowMessageKind.Gate:
                ChangeGate(message.Open, cut);
                break;
        }

        if (_budget is { HasExcess: true } && _cutter.HeldInstantCount > 0)
        {
            // DropOldest while the network is unreachable: the oldest QoS0 events waiting make room for the new ones.
            var take = _budget.TryTakeExcess(_cutter.HeldInstantCount);
            if (take > 0)
            {
                InstantBudget.Drop(_cutter.TakeOldestInstant(take), _counters);
            }
        }

        if (_budget is { HasWaiters: true })
        {
            // Callers wait for QoS0 room (QueueFullMode.Wait): what is open goes now, its outcome makes the room.
            _cutter.Cut(cut);
        }

        var timed = _cutter.Timed;
        if (timed != 0 && timed != Volatile.Read(ref _armed))
        {
            // A new batch opened (or the gate opened under one): its delay runs from its start.
            var due = TimeSpan.FromTicks(_openStartTicks - _time.GetUtcNow().UtcTicks) + _maxDelay;
            if (due > TimeSpan.Zero)
            {
                Volatile.Write(ref _armed, timed);
                _timer.Change(due, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _cutter.CutIfTimed(timed, cut);
            }
        }

        Volatile.Write(ref _heldCount, _cutter.HeldCount);
        if (message.Kind == FlowMessageKind.Instant)
        {
            _instantReceived += message.Events.Length;
        }

        Volatile.Write(ref _instantSettled, _instantReceived - _cutter.OpenCount);

        return cut;
    }

    /// <summary>
    /// Events in order. A batch opened by a QoS0 event from the ingress starts when that event was tracked (it may have
    /// lingered in the ingress); any other starts now.
    /// </summary>
    private void Add(EventEnvelope[] events, List<EventEnvelope[]> cut, bool fromIngress)
    {
        foreach (var envelope in events)
        {
            if (_cutter.Add(envelope, cut))
            {
                var now = _time.GetUtcNow().UtcTicks;
                _openStartTicks = fromIngress && envelope.TimestampTicks > 0 ? Math.Min(now, envelope.TimestampTicks) : now;
            }
        }
    }

    private void ChangeGate(bool open, List<EventEnvelope[]> cut)
    {
        if (_cutter.IsOpen == open)
        {
            return;
        }

        Log.ReachabilityChanged(_logger, open ? "reachable" : "unreachable", open ? "resumed" : "paused");
        lock (_gateLock)
        {
            _gateChanged?.Invoke(open);
            _cutter.SetOpen(open, cut);
        }

        // What is left open after the held events were fed waits its whole delay again.
        _openStartTicks = _time.GetUtcNow().UtcTicks;

        if (open && FlushWaits())
        {
            _cutter.Cut(cut);
        }
    }

    /// <summary>
    /// Whether a flush whose marker has reached the scheduler is not over yet: what comes from the store (read back
    /// after acks) or a retry is then cut at once. Counted from the marker, not from the call, so that events tracked
    /// before the flush still fill their batches by count.
    /// </summary>
    private bool FlushWaits()
    {
        _flushes.RemoveAll(static m => m.Ended);
        return _flushes.Count > 0;
    }

    private void OnTimer() => _block.Post(FlowMessage.Timer(Volatile.Read(ref _armed)));
}
