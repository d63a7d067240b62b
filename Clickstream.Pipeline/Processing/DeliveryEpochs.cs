namespace Clickstream.Pipeline.Processing;

/// <summary>
/// The chain of <see cref="DeliveryEpoch"/>s. The processor adds events to the current one and seals it
/// at each flush; the store finds the epoch of an event it reads back from disk by the event's id, since
/// ids grow in the order the processor handed them out.
/// </summary>
/// <remarks>
/// A flush with no event since the previous seal shares the previous sealed epoch instead of sealing an empty one:
/// every epoch chains to the one before it (<see cref="DeliveryEpoch.Completion"/>), so an app flushing in a loop
/// while offline would otherwise grow that chain by one epoch per call, without bound. Epochs are thus at most one
/// per flush that had events before it.
/// </remarks>
internal sealed class DeliveryEpochs
{
    private readonly Lock _lock = new();
    private readonly List<DeliveryEpoch> _sealed = [];
    private DeliveryEpoch _current;

    // The epoch the last seal returned and the last id it covered; a seal at that same id shares it.
    private DeliveryEpoch _lastSealed;
    private long _lastSealedId;
    private long _sealCount;

    /// <param name="recoveredEvents">Events found in the store at start: they form a first, sealed epoch.</param>
    /// <param name="lastRecoveredId">The largest id among them.</param>
    public DeliveryEpochs(long recoveredEvents, long lastRecoveredId)
    {
        Task? previous = null;
        _lastSealedId = lastRecoveredId;
        _lastSealed = new DeliveryEpoch(null);
        _lastSealed.Seal(lastRecoveredId);
        if (recoveredEvents > 0)
        {
            var recovered = new DeliveryEpoch(null, recoveredEvents);
            recovered.Seal(lastRecoveredId);
            _sealed.Add(recovered);
            previous = recovered.Completion;
            _lastSealed = recovered;
        }

        _current = new DeliveryEpoch(previous);
    }

    /// <summary>The open epoch. Read by the processor only.</summary>
    public DeliveryEpoch Current => _current;

    /// <summary>Epochs sealed so far (flushes that shared an epoch count once).</summary>
    public long SealCount => Interlocked.Read(ref _sealCount);

    /// <summary>
    /// Seals the open epoch after <paramref name="lastId"/> and opens the next; when no event was stamped since the
    /// last seal (<paramref name="lastId"/> is the same), returns the last sealed epoch instead. Called by the
    /// processor only.
    /// </summary>
    public DeliveryEpoch Seal(long lastId)
    {
        lock (_lock)
        {
            // Ids are stamped with the current epoch as they are handed out, so an unchanged last id means an empty
            // open epoch: the flush waits for exactly what the last seal waits for.
            if (lastId == _lastSealedId)
            {
                return _lastSealed;
            }

            _lastSealedId = lastId;
            _sealCount++;
            var sealedEpoch = _current;
            _lastSealed = sealedEpoch;
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
