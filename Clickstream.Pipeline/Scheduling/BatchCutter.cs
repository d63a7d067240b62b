using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// The batching rule, and nothing else: where a batch is cut. A batch is cut at <c>MaxBatchSize</c> events, before
/// the event that would take it past <c>MaxBatchBytes</c>, when its delay passed (the caller's timer, see
/// <see cref="Timed"/>), and at a flush. While the gate is closed (the network unreachable, or paused) nothing enters
/// the open batch and nothing is cut: events are held, in order, and fed when it opens.
/// </summary>
/// <remarks>
/// No locks, no timers, no I/O: the scheduler block calls it from one message at a time, and tests drive it directly.
/// Cut batches are appended to the list the caller passes, in order.
/// </remarks>
internal sealed class BatchCutter
{
    private readonly int _maxBatchSize;
    private readonly long _maxBatchBytes;
    private readonly Queue<EventEnvelope> _held = new();
    private EventEnvelope[]? _open;
    private EventEnvelope[]? _spare;
    private int _openCount;
    private long _openBytes;
    private long _generation = 1;

    public BatchCutter(int maxBatchSize, long maxBatchBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchBytes);
        _maxBatchSize = maxBatchSize;
        _maxBatchBytes = maxBatchBytes;
    }

    /// <summary>Events in the open batch.</summary>
    public int OpenCount => _openCount;

    /// <summary>Wire bytes of the open batch.</summary>
    public long OpenBytes => _openBytes;

    /// <summary>Events held while the gate is closed.</summary>
    public int HeldCount => _held.Count;

    /// <summary>QoS0 events among them.</summary>
    public int HeldInstantCount { get; private set; }

    /// <summary>Whether batches are cut (the network reachable and not paused).</summary>
    public bool IsOpen { get; private set; } = true;

    /// <summary>
    /// Non-zero when the open batch needs its delay timed: a number naming this batch, to pass back to
    /// <see cref="CutIfTimed"/> when the delay has passed. It changes whenever the open batch is cut or the delay
    /// starts again (the gate opened), so that a timer armed for an earlier batch cuts nothing.
    /// </summary>
    public long Timed => _openCount > 0 && IsOpen ? _generation : 0;

    /// <summary>One event, in order: into the open batch, or held behind the events already waiting.</summary>
    /// <returns>True when it opened a new batch (the caller starts its delay: <see cref="Timed"/>).</returns>
    public bool Add(EventEnvelope envelope, List<EventEnvelope[]> cut)
    {
        if (!IsOpen || _held.Count > 0)
        {
            _held.Enqueue(envelope);
            HeldInstantCount += envelope.Durable ? 0 : 1;
            return false;
        }

        return Feed(envelope, cut);
    }

    /// <summary>A flush: what is open is cut now (nothing while the gate is closed).</summary>
    public void Cut(List<EventEnvelope[]> cut)
    {
        if (_openCount > 0 && IsOpen)
        {
            Emit(cut);
        }
    }

    /// <summary>The delay of the batch named <paramref name="generation"/> passed: cut it if it is still the open one.</summary>
    public void CutIfTimed(long generation, List<EventEnvelope[]> cut)
    {
        if (generation != 0 && generation == Timed)
        {
            Emit(cut);
        }
    }

    /// <summary>
    /// Opens or closes the gate. When it opens, the held events are fed in order (batches cut as they fill); what is
    /// left open starts its delay again (<see cref="Timed"/>), as it may have waited longer than the delay already.
    /// </summary>
    /// <returns>Whether the state changed.</returns>
    public bool SetOpen(bool open, List<EventEnvelope[]> cut)
    {
        if (IsOpen == open)
        {
            return false;
        }

        IsOpen = open;
        _generation++;
        if (open)
        {
            HeldInstantCount = 0;
            while (_held.TryDequeue(out var envelope))
            {
                Feed(envelope, cut);
            }
        }

        return true;
    }

    /// <summary>
    /// An array of events already added that no one else holds: if it is a batch long, the next batch is filled into it
    /// instead of a new one (batches are sent as the arrays they were filled in).
    /// </summary>
    /// <returns>Whether it is kept for the next batch.</returns>
    public bool Recycle(EventEnvelope[] consumed)
    {
        if (_spare is null && consumed.Length == _maxBatchSize && !ReferenceEquals(consumed, _open))
        {
            Array.Clear(consumed);
            _spare = consumed;
            return true;
        }

        return false;
    }

    /// <summary>Takes up to <paramref name="count"/> QoS0 events out of the held ones, oldest first (the QoS1 events stay, in order).</summary>
    public EventEnvelope[] TakeOldestInstant(int count)
    {
        var taken = new List<EventEnvelope>(Math.Min(count, _held.Count));
        var kept = _held.Count;
        for (var i = 0; i < kept; i++)
        {
            var envelope = _held.Dequeue();
            if (taken.Count < count && !envelope.Durable)
            {
                taken.Add(envelope);
            }
            else
            {
                _held.Enqueue(envelope);
            }
        }

        HeldInstantCount -= taken.Count;
        return [.. taken];
    }

    private bool Feed(EventEnvelope envelope, List<EventEnvelope[]> cut)
    {
        if (_openCount > 0 && _openBytes + envelope.WireSize > _maxBatchBytes)
        {
            Emit(cut);
        }

        if (_open is null)
        {
            _open = _spare ?? new EventEnvelope[_maxBatchSize];
            _spare = null;
        }

        _open[_openCount++] = envelope;
        _openBytes += envelope.WireSize;
        if (_openCount == _maxBatchSize)
        {
            Emit(cut);
            return false;
        }

        return _openCount == 1;
    }

    /// <summary>The open batch goes (a full array as it is, a partial one copied to its length); an empty one opens.</summary>
    private void Emit(List<EventEnvelope[]> cut)
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

        _openCount = 0;
        _openBytes = 0;
        _generation++;
        cut.Add(batch);
    }
}
