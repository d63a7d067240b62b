namespace Clickstream.Pipeline.Processing;

/// <summary>
/// Counts the events tracked between two flushes until each is delivered or has definitively failed.
/// A flush seals the current epoch and waits for its <see cref="Completion"/>, which also waits for every
/// earlier epoch: "every event tracked before the call" without a per-event registry.
/// </summary>
internal sealed class DeliveryEpoch
{
    private readonly TaskCompletionSource _own = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Starts at 1: the epoch's own reference, dropped when it is sealed, so an open epoch whose events
    // are all delivered does not complete before the flush that seals it.
    private long _outstanding;

    public DeliveryEpoch(Task? previous, long initialEvents = 0)
    {
        _outstanding = 1 + initialEvents;
        Completion = previous is null || previous.IsCompleted ? _own.Task : Task.WhenAll(previous, _own.Task);
    }

    /// <summary>The last event id of the epoch, once sealed; <see cref="long.MaxValue"/> while open.</summary>
    public long LastId { get; private set; } = long.MaxValue;

    /// <summary>Completes when this epoch and every earlier one have no event left.</summary>
    public Task Completion { get; }

    public bool IsDone => _own.Task.IsCompleted;

    public void Add() => Interlocked.Increment(ref _outstanding);

    public void Complete(int count)
    {
        if (Interlocked.Add(ref _outstanding, -count) == 0)
        {
            _own.TrySetResult();
        }
    }

    public void Seal(long lastId)
    {
        LastId = lastId;
        Complete(1);
    }
}
