namespace Clickstream.Pipeline.Processing;

/// <summary>
/// The chain of <see cref="DeliveryEpoch"/>s. The processor adds events to the current one and seals it
/// at each flush; the store finds the epoch of an event it reads back from disk by the event's id, since
/// ids grow in the order the processor handed them out.
/// </summary>
internal sealed class DeliveryEpochs
{
    private readonly Lock _lock = new();
    private readonly List<DeliveryEpoch> _sealed = [];
    private DeliveryEpoch _current;

    /// <param name="recoveredEvents">Events found in the store at start: they form a first, sealed epoch.</param>
    /// <param name="lastRecoveredId">The largest id among them.</param>
    public DeliveryEpochs(long recoveredEvents, long lastRecoveredId)
    {
        Task? previous = null;
        if (recoveredEvents > 0)
        {
            var recovered = new DeliveryEpoch(null, recoveredEvents);
            recovered.Seal(lastRecoveredId);
            _sealed.Add(recovered);
            previous = recovered.Completion;
        }

        _current = new DeliveryEpoch(previous);
    }

    /// <summary>The open epoch. Read by the processor only.</summary>
    public DeliveryEpoch Current => _current;

    /// <summary>Seals the open epoch after <paramref name="lastId"/> and opens the next. Called by the processor only.</summary>
    public DeliveryEpoch Seal(long lastId)
    {
        lock (_lock)
        {
            var sealedEpoch = _current;
            _current = new DeliveryEpoch(sealedEpoch.Completion);
            _sealed.RemoveAll(static e => e.IsDone);
            _sealed.Add(sealedEpoch);
            sealedEpoch.Seal(lastId);
            return sealedEpoch;
        }
    }

    /// <summary>The epoch that counts the event with this id.</summary>
    public DeliveryEpoch Find(long id)
    {
        lock (_lock)
        {
            foreach (var epoch in _sealed)
            {
                if (id <= epoch.LastId && !epoch.IsDone)
                {
                    return epoch;
                }
            }

            return _current;
        }
    }

    /// <summary>Marks events delivered or definitively failed, one decrement per run of the same epoch.</summary>
    public static void Complete(ReadOnlySpan<EventEnvelope> events)
    {
        DeliveryEpoch? run = null;
        var count = 0;
        foreach (var e in events)
        {
            if (!ReferenceEquals(e.Epoch, run))
            {
                run?.Complete(count);
                run = e.Epoch;
                count = 0;
            }

            count++;
        }

        run?.Complete(count);
    }
}
