using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>
/// The pipeline's counters: plain fields updated with <see cref="Interlocked"/>, read as a
/// <see cref="ClickstreamStatistics"/> snapshot. Waiters (tests, the demo) can await a change without polling.
/// </summary>
internal sealed class PipelineCounters
{
    public long InstantTracked;
    public long DurableTracked;
    public long Stored;
    public long Recovered;
    public long PendingOnDisk;
    public long EventsSent;
    public long EventsAcknowledged;
    public long DroppedOverflow;
    public long DroppedSendFailed;
    public long DroppedShutdown;
    public long Cancelled;
    public long StoreFailed;
    public long BatchesSent;
    public long BatchesAcknowledged;
    public long BatchesFailed;
    public long BatchesRetried;

    /// <summary>Failed requests by kind, indexed by <see cref="Transports.SendResult"/>; their sum is <see cref="BatchesFailed"/>.</summary>
    public readonly long[] BatchesFailedByKind = new long[Telemetry.ResultCount];

    /// <summary>Events in requests sent and not answered yet.</summary>
    public long EventsInFlight;
    public long StoreCommits;
    public long StoreErrors;
    public long BatchesSplit;
    public long DeadLettered;
    public long UnreachablePeriods;
    public long ReachabilityProbes;
    public int Reachable = 1;
    public long EvictedOverCapacity;
    public long EvictedExpired;
    public long StoreFilesMovedAside;
    public long StoreReopens;
    public long StoreCompactions;
    public long StoreLogSyncs;
    public long DeadLettersEvicted;
    public long EventsSalvaged;
    public long EventsUnreadable;

    /// <summary>When the next reachability probe is due (UTC ticks on the pipeline's clock); 0 while none is armed. Lets a test step a fake clock to it.</summary>
    public long NextProbeDueTicks;

    private TaskCompletionSource? _changed;

    public ClickstreamStatistics Snapshot() => new()
    {
        InstantEventsTracked = Volatile.Read(ref InstantTracked),
        DurableEventsTracked = Volatile.Read(ref DurableTracked),
        EventsStored = Volatile.Read(ref Stored),
        EventsRecovered = Volatile.Read(ref Recovered),
        EventsPendingOnDisk = Volatile.Read(ref PendingOnDisk),
        EventsSent = Volatile.Read(ref EventsSent),
        EventsAcknowledged = Volatile.Read(ref EventsAcknowledged),
        EventsDroppedOverflow = Volatile.Read(ref DroppedOverflow),
        EventsDroppedSendFailed = Volatile.Read(ref DroppedSendFailed),
        EventsDroppedShutdown = Volatile.Read(ref DroppedShutdown),
        EventsCancelled = Volatile.Read(ref Cancelled),
        EventsStoreFailed = Volatile.Read(ref StoreFailed),
        BatchesSent = Volatile.Read(ref BatchesSent),
        BatchesAcknowledged = Volatile.Read(ref BatchesAcknowledged),
        BatchesFailed = Volatile.Read(ref BatchesFailed),
        BatchesRetried = Volatile.Read(ref BatchesRetried),
        StoreCommits = Volatile.Read(ref StoreCommits),
        StoreErrors = Volatile.Read(ref StoreErrors),
        BatchesSplit = Volatile.Read(ref BatchesSplit),
        EventsDeadLettered = Volatile.Read(ref DeadLettered),
        UnreachablePeriods = Volatile.Read(ref UnreachablePeriods),
        ReachabilityProbes = Volatile.Read(ref ReachabilityProbes),
        IsReachable = Volatile.Read(ref Reachable) == 1,
        EventsEvictedOverCapacity = Volatile.Read(ref EvictedOverCapacity),
        EventsEvictedExpired = Volatile.Read(ref EvictedExpired),
        StoreFilesMovedAside = Volatile.Read(ref StoreFilesMovedAside),
        StoreReopens = Volatile.Read(ref StoreReopens),
        StoreCompactions = Volatile.Read(ref StoreCompactions),
        StoreLogSyncs = Volatile.Read(ref StoreLogSyncs),
        BatchesFailedTransient = FailedOfClass(FailureClass.Transient),
        BatchesFailedConfiguration = FailedOfClass(FailureClass.Configuration),
        BatchesFailedRejected = FailedOfClass(FailureClass.Rejection),
        DeadLettersEvicted = Volatile.Read(ref DeadLettersEvicted),
        EventsSalvaged = Volatile.Read(ref EventsSalvaged),
        EventsUnreadable = Volatile.Read(ref EventsUnreadable),
    };

    private long FailedOfClass(FailureClass failureClass)
    {
        long sum = 0;
        for (var kind = 0; kind < BatchesFailedByKind.Length; kind++)
        {
            if (kind != (int)SendResult.Acknowledged && FailureClassifier.ClassOf((SendResult)kind) == failureClass)
            {
                sum += Volatile.Read(ref BatchesFailedByKind[kind]);
            }
        }

        return sum;
    }

    /// <summary>Wakes whoever waits in <see cref="WaitAsync"/>. Called after batch-level changes, not per event.</summary>
    public void NotifyChanged()
    {
        if (Volatile.Read(ref _changed) is not null)
        {
            Interlocked.Exchange(ref _changed, null)?.TrySetResult();
        }
    }

    /// <summary>Completes when <paramref name="condition"/> holds for a snapshot.</summary>
    public async Task<ClickstreamStatistics> WaitAsync(Func<ClickstreamStatistics, bool> condition, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Volatile.Read(ref _changed);
            if (signal is null)
            {
                var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                signal = Interlocked.CompareExchange(ref _changed, fresh, null) ?? fresh;
            }

            // Read after the signal is installed: a change after this read completes the signal.
            var snapshot = Snapshot();
            if (condition(snapshot))
            {
                return snapshot;
            }

            await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
