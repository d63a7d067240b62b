using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// Cuts batches: at <c>MaxBatchSize</c> events, earlier when the next event would pass <c>MaxBatchBytes</c>,
/// and a <see cref="TimeProvider"/> timer cuts a batch <c>MaxTimeBetweenTwoBatches</c> after its first event.
/// Each batch is posted to the egress block (<see cref="ConnectTo"/>). While the network is unreachable no
/// event enters the open batch and no batch is cut; the events wait here, and are fed in order when it is
/// reachable again.
/// </summary>
/// <remarks>
/// The open batch is an array filled under this class's lock, the same lock that keeps its count and bytes: a
/// cut is always where the accounting says. It was a Dataflow <c>BatchBlock</c>, whose own lock was taken once
/// per event and contended with the egress block taking the batches (12.8% of the CPU samples of a QoS0 run
/// spent in <c>Monitor.Enter_Slowpath</c> under <c>BatchBlock.Post</c>).
/// </remarks>
internal sealed class EventScheduler : IDisposable
{
    private readonly Lock _lock = new();
    private ITargetBlock<EventEnvelope[]>? _target;
    private EventEnvelope[]? _open;
    private readonly Queue<EventEnvelope> _held = new();
    private readonly ITimer _timer;
    private readonly TimeSpan _maxDelay;
    private readonly int _maxBatchSize;
    private readonly int _maxBatchBytes;
    private readonly ILogger _logger;
    private int _openCount;
    private long _openBytes;
    private bool _reachable = true;
    private bool _disposed;
    private int _flushesPending;
    private EventProcessor? _processor;
    private Action<bool>? _gateChanged;

    public EventScheduler(int maxBatchSize, int maxBatchBytes, TimeSpan maxDelay, TimeProvider timeProvider, ILogger logger)
    {
        _maxBatchSize = maxBatchSize;
        _maxBatchBytes = maxBatchBytes;
        _maxDelay = maxDelay;
        _logger = logger;
        _timer = timeProvider.CreateTimer(static s => ((EventScheduler)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Events in the open batch; read without the lock by the processor, which defers QoS0 events until they would fill it.</summary>
    public int OpenCount => Volatile.Read(ref _openCount);

    /// <summary>Wire bytes in the open batch (see <see cref="OpenCount"/>).</summary>
    public long OpenBytes => Volatile.Read(ref _openBytes);

    /// <summary>The processor that defers QoS0 events; woken when events fed from elsewhere make them fill the open batch.</summary>
    public void Attach(EventProcessor processor) => _processor = processor;

    /// <summary>Where the batches go: the egress block (a test's buffer). Set once, before any event comes.</summary>
    public void ConnectTo(ITargetBlock<EventEnvelope[]> target) => _target = target;

    /// <summary>
    /// Tells <paramref name="handler"/> the reachability signal now and at every change, under this class's lock
    /// and, when it opens, before the held events are fed (the egress sends the batches waiting at the gate first, so
    /// the backlog goes out oldest first). Set once, by the egress.
    /// </summary>
    public void WatchGate(Action<bool> handler)
    {
        lock (_lock)
        {
            // Told the current state under the lock, so that no change can slip in between.
            _gateChanged = handler;
            handler(_reachable);
        }
    }

    /// <summary>Events waiting here while the network is unreachable.</summary>
    public int HeldCount
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>One QoS0 event.</summary>
    public void Enqueue(EventEnvelope envelope) => EnqueueInstant(new ReadOnlySpan<EventEnvelope>(in envelope));

    /// <summary>A run of QoS0 events from the processor, in order, under one lock. Not cut at once while a flush waits: the flush marker that follows cuts.</summary>
    public void EnqueueInstant(ReadOnlySpan<EventEnvelope> envelopes)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var envelope in envelopes)
            {
                Accept(envelope);
            }
        }
    }

    /// <summary>Many events, from the store (committed QoS1 events) or a retry. Cut at once while a flush waits.</summary>
    public void EnqueueRange(ReadOnlySpan<EventEnvelope> envelopes)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var envelope in envelopes)
            {
                Accept(envelope);
            }

            if (_flushesPending > 0)
            {
                Cut();
            }
        }

        WakeProcessorIfBatchFull();
    }

    /// <summary>A flush marker got here: what is open goes now.</summary>
    public void CutForFlush()
    {
        lock (_lock)
        {
            Cut();
        }
    }

    /// <summary>While a flush waits, batches are cut as soon as events arrive, not when the timer fires.</summary>
    public void BeginFlush()
    {
        Interlocked.Increment(ref _flushesPending);
    }

    public void EndFlush()
    {
        Interlocked.Decrement(ref _flushesPending);
    }

    /// <summary>The reachability signal: while false, no batch is cut.</summary>
    public void SetReachable(bool reachable)
    {
        lock (_lock)
        {
            if (_reachable == reachable || _disposed)
            {
                return;
            }

            _reachable = reachable;
            Log.ReachabilityChanged(_logger, reachable ? "reachable" : "unreachable", reachable ? "resumed" : "paused");
            _gateChanged?.Invoke(reachable);
            if (!reachable)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            while (_held.TryDequeue(out var envelope))
            {
                Feed(envelope);
            }

            if (_openCount > 0)
            {
                // The open batch may have waited longer than the delay already.
                if (_flushesPending > 0)
                {
                    Cut();
                }
                else
                {
                    _timer.Change(_maxDelay, Timeout.InfiniteTimeSpan);
                }
            }
        }

        WakeProcessorIfBatchFull();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _target?.Complete();
        }

        _timer.Dispose();
    }

    /// <summary>Outside the lock (the processor's lock is never taken under this one).</summary>
    private void WakeProcessorIfBatchFull() => _processor?.WakeIfBatchFull(OpenCount, OpenBytes);

    /// <summary>Into the open batch, or held behind the events already waiting (order kept) while unreachable. Under the lock.</summary>
    private void Accept(EventEnvelope envelope)
    {
        if (_reachable && _held.Count == 0)
        {
            Feed(envelope);
        }
        else
        {
            _held.Enqueue(envelope);
        }
    }

    private void Feed(EventEnvelope envelope)
    {
        if (_openCount > 0 && _openBytes + envelope.WireSize > _maxBatchBytes)
        {
            Cut();
        }

        if (_disposed)
        {
            // Only after shutdown: the event stays where it is (QoS1 on disk).
            return;
        }

        _open ??= new EventEnvelope[_maxBatchSize];
        _open[_openCount] = envelope;
        if (_openCount + 1 == _maxBatchSize)
        {
            _openCount++;
            Emit();
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        Volatile.Write(ref _openCount, _openCount + 1);

        _openBytes += envelope.WireSize;
        if (_openCount == 1)
        {
            _timer.Change(_maxDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Cut()
    {
        if (_openCount == 0 || !_reachable)
        {
            return;
        }

        Emit();
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Posts the open batch (a full array as it is, a partial one copied to its length) and opens an empty one. Under the lock.</summary>
    private void Emit()
    {
        var open = _open!;
        EventEnvelope[] batch;
        if (_openCount == open.Length)
        {
            batch = open;
            _open = null;
        }
        else
        {
            batch = open.AsSpan(0, _openCount).ToArray();
            Array.Clear(open, 0, _openCount);
        }

        Volatile.Write(ref _openCount, 0);
        Volatile.Write(ref _openBytes, 0);

        // The egress block declines only once stopped (shutdown): QoS1 events stay on disk, QoS0 are counted as dropped.
        _target!.Post(batch);
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                Cut();
            }
        }
    }
}
