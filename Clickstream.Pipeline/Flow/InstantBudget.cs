using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Flow;

/// <summary>
/// The QoS0 memory bound: how many QoS0 events are in the graph (from <c>TrackAsync</c> to their outcome), and what
/// happens when <see cref="ClickstreamOptions.MaxQueuedEvents"/> are there already (<see cref="ClickstreamQueueFullMode"/>):
/// the new event is dropped, or the caller waits for room, or the oldest waiting event is dropped.
/// </summary>
/// <remarks>
/// For <see cref="ClickstreamQueueFullMode.DropOldest"/> the new event always enters; while the count is over the
/// bound, the stages that hold QoS0 events not sent yet drop their oldest ones (<see cref="TryTakeExcess"/>). Events
/// already in a request cannot be dropped, so the bound can be passed by the events in flight until they are done.
/// </remarks>
internal sealed class InstantBudget
{
    private readonly long _max;
    private readonly ClickstreamQueueFullMode _mode;
    private long _inMemory;
    private int _waiters;
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InstantBudget(int max, ClickstreamQueueFullMode mode)
    {
        _max = max;
        _mode = mode;
    }

    /// <summary>
    /// Called when a caller starts waiting for room (<see cref="ClickstreamQueueFullMode.Wait"/>): the graph cuts the
    /// open batch then, so that room comes from sending it rather than from its timer.
    /// </summary>
    public Action? Waiting { get; set; }

    /// <summary>Whether callers are waiting for room: batches should not wait for their timer.</summary>
    public bool HasWaiters => Volatile.Read(ref _waiters) > 0;

    /// <summary>QoS0 events in the graph.</summary>
    public long InMemory => Volatile.Read(ref _inMemory);

    /// <summary>Whether a stage holding QoS0 events should drop its oldest ones (<see cref="ClickstreamQueueFullMode.DropOldest"/>, over the bound).</summary>
    public bool HasExcess => _mode == ClickstreamQueueFullMode.DropOldest && Volatile.Read(ref _inMemory) > _max;

    /// <summary>
    /// Takes room for one event. Completes synchronously unless the caller must wait
    /// (<see cref="ClickstreamQueueFullMode.Wait"/>); false when the event is to be dropped.
    /// </summary>
    public ValueTask<bool> TakeAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _inMemory) <= _max)
        {
            return new ValueTask<bool>(true);
        }

        switch (_mode)
        {
            case ClickstreamQueueFullMode.DropOldest:
                return new ValueTask<bool>(true);
            case ClickstreamQueueFullMode.Wait:
                Interlocked.Decrement(ref _inMemory);
                return new ValueTask<bool>(WaitAsync(cancellationToken));
            default:
                Interlocked.Decrement(ref _inMemory);
                return new ValueTask<bool>(false);
        }
    }

    /// <summary>Events left the graph (acknowledged, failed, dropped): room for as many.</summary>
    public void Release(long count)
    {
        Interlocked.Add(ref _inMemory, -count);
        if (Volatile.Read(ref _waiters) > 0)
        {
            Interlocked.Exchange(ref _room, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>
    /// How many of its <paramref name="available"/> oldest QoS0 events the caller drops now to bring the count back to
    /// the bound; their room is taken back at once, so two stages never drop for the same excess.
    /// </summary>
    public int TryTakeExcess(int available)
    {
        while (true)
        {
            var inMemory = Volatile.Read(ref _inMemory);
            var excess = inMemory - _max;
            if (excess <= 0 || available <= 0)
            {
                return 0;
            }

            var take = (int)Math.Min(excess, available);
            if (Interlocked.CompareExchange(ref _inMemory, inMemory - take, inMemory) == inMemory)
            {
                return take;
            }
        }
    }

    /// <summary>
    /// Drops the QoS0 events a stage took out for the excess (<see cref="TryTakeExcess"/>, which gave their room back):
    /// counted as overflow, their delivery epochs completed (a flush does not wait for them), their envelopes back to
    /// the pool.
    /// </summary>
    public static void Drop(EventEnvelope[] dropped, PipelineCounters counters)
    {
        Interlocked.Add(ref counters.DroppedOverflow, dropped.Length);
        DeliveryEpochs.Complete(dropped);
        EnvelopePool.Return(dropped);
        counters.NotifyChanged();
    }

    /// <summary>Everything still counted, for a shutdown that drops it; waiters are woken (to find the pipeline closed).</summary>
    public long TakeAll()
    {
        var all = Interlocked.Exchange(ref _inMemory, 0);
        Interlocked.Exchange(ref _room, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return all;
    }

    private async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiters);
        Waiting?.Invoke();
        try
        {
            while (true)
            {
                // Read before trying: a release after a failed try completes this very source.
                var room = Volatile.Read(ref _room);
                if (Interlocked.Increment(ref _inMemory) <= _max)
                {
                    return true;
                }

                Interlocked.Decrement(ref _inMemory);
                await room.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }
}
