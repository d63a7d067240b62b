using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// Cuts batches: a <see cref="BatchBlock{T}"/> cuts at <c>MaxBatchSize</c> events by itself; this class
/// cuts earlier (<see cref="BatchBlock{T}.TriggerBatch"/>) when the next event would pass <c>MaxBatchBytes</c>,
/// and a <see cref="TimeProvider"/> timer cuts a batch <c>MaxTimeBetweenTwoBatches</c> after its first event.
/// While the network is unreachable no event enters the batch block and no batch is cut; the events wait
/// here, and are fed in order when it is reachable again.
/// </summary>
/// <remarks>
/// The lock keeps the count and bytes of the open batch equal to what the batch block holds: every post and
/// every trigger happens under it, so a cut is always where the accounting says.
/// </remarks>
internal sealed class EventScheduler : IDisposable
{
    private readonly Lock _lock = new();
    private readonly BatchBlock<EventEnvelope> _batcher;
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

    public EventScheduler(int maxBatchSize, int maxBatchBytes, TimeSpan maxDelay, TimeProvider timeProvider, ILogger logger)
    {
        _maxBatchSize = maxBatchSize;
        _maxBatchBytes = maxBatchBytes;
        _maxDelay = maxDelay;
        _logger = logger;
        _batcher = new BatchBlock<EventEnvelope>(maxBatchSize);
        _timer = timeProvider.CreateTimer(static s => ((EventScheduler)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Where the batches go.</summary>
    public ISourceBlock<EventEnvelope[]> Output => _batcher;

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
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _batcher.Complete();
        }

        _timer.Dispose();
    }

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

        if (!_batcher.Post(envelope))
        {
            // Only after Complete (shutdown): the event stays where it is (QoS1 on disk).
            return;
        }

        if (++_openCount == _maxBatchSize)
        {
            // The batch block cut this batch by itself.
            _openCount = 0;
            _openBytes = 0;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

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

        _batcher.TriggerBatch();
        _openCount = 0;
        _openBytes = 0;
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
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
