using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// Sends each batch (a Dataflow <see cref="ActionBlock{T}"/>, several requests in flight): a new req_guid,
/// the request record written before the send, the send through the transport (guarded by <see cref="SendGuard"/>,
/// so that every send ends in an outcome), then on an ack the record and its events deleted in one transaction.
/// A failure is classed by <see cref="FailureClassifier"/>: transient and configuration failures send the QoS1
/// events back to the scheduler after the <see cref="RetryPolicy"/>'s delay (never a hot loop); a rejection splits
/// the batch in halves until each refused event is alone, and a lone refused event is dead-lettered only while the
/// endpoint acknowledges other requests (<see cref="RecentAckWindow"/>). QoS0 events of a failed request are dropped
/// and counted (QoS0 is at-most-once).
/// </summary>
/// <remarks>
/// Batches wait at the reachability gate (<see cref="EventScheduler.WatchGate"/>), not on a backoff, once the gate has
/// closed: a batch taken from the block while it is closed is parked instead of sent, so a server going down mid-drain
/// costs one failed request per slot; a network failure's retry (refused, reset, timed out) parks at once while it is
/// closed, and a retry whose delay ends while it is closed parks then. When the gate opens (a probe answered, the
/// network or the app's signal came back, a resume), the parked batches and the pending retries of network failures
/// are sent at once, oldest first and before the events the scheduler held, and the shared backoff starts over: a
/// batch's backoff never keeps the pipeline idle once the server answers. Retries of the server's own answers (5xx,
/// 429 and Retry-After, 401/403, misconfiguration) keep their delay.
/// </remarks>
internal sealed class EgressController
{
    private readonly ActionBlock<EventEnvelope[]> _block;
    private readonly IEventTransport _transport;
    private readonly EventStore _store;
    private readonly ITargetBlock<FlowMessage> _retries;
    private readonly ReachabilityMonitor _reachability;
    private readonly RetryPolicy _policy;
    private readonly PipelineCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly InstantBudget _budget;
    private readonly EgressDiagnostics _diagnostics;
    private readonly FailureEpisodes _episodes = new();

    // The gate as the scheduler last told it, and the retries that have not gone back yet (on their timer, or parked at
    // the closed gate); both under _gateLock. A retry leaves the list exactly once: by its timer or by the gate opening.
    private readonly Lock _gateLock = new();
    private readonly List<PendingRetry> _waiting = [];
    private bool _gateOpen = true;

    // The TimeProvider timestamp of the latest acknowledged request; long.MinValue until there is one.
    private long _lastAcknowledged = long.MinValue;

    /// <summary>
    /// How recently the endpoint must have acknowledged a request for a lone refused event to be dead-lettered: a server
    /// that refuses everything is misconfigured (a proxy, a wrong deployment), and its refusals say nothing about the events.
    /// </summary>
    public static readonly TimeSpan RecentAckWindow = TimeSpan.FromMinutes(5);

    public EgressController(
        IEventTransport transport,
        EventStore store,
        ITargetBlock<FlowMessage> retries,
        ReachabilityMonitor reachability,
        RetryPolicy policy,
        PipelineCounters counters,
        int maxConcurrentRequests,
        TimeProvider timeProvider,
        ILogger logger,
        InstantBudget budget,
        EgressDiagnostics diagnostics,
        TimeSpan sendDeadline)
    {
        _diagnostics = diagnostics;
        _transport = new SendGuard(transport, sendDeadline, timeProvider);
        _store = store;
        _retries = retries;
        _reachability = reachability;
        _policy = policy;
        _counters = counters;
        _timeProvider = timeProvider;
        _logger = logger;
        _budget = budget;
        _block = new ActionBlock<EventEnvelope[]>(
            SendAsync,
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = maxConcurrentRequests, EnsureOrdered = false });
    }

    /// <summary>Where the scheduler's batches come in.</summary>
    public ITargetBlock<EventEnvelope[]> Input => _block;

    public Task Completion => _block.Completion;

    /// <summary>Aborts the requests in flight; batches not sent yet are left alone (QoS1 stays on disk).</summary>
    public void Stop()
    {
        _shutdown.Cancel();
        _block.Complete();
    }

    private async Task SendAsync(EventEnvelope[] batch)
    {
        // Nothing may escape this delegate: an exception would fault the block and stop all delivery. And every batch
        // gets an outcome: if anything below throws before one was applied, the batch fails and is retried.
        var requestGuid = Guid.NewGuid();
        var durable = 0;
        var recordWritten = false;
        var settled = false;
        try
        {
            if (_shutdown.IsCancellationRequested || ParkIfGateClosed(batch))
            {
                return;
            }

            if (_budget.HasExcess)
            {
                batch = DropOldestInstant(batch);
                if (batch.Length == 0)
                {
                    settled = true;
                    return;
                }
            }

            _diagnostics.BatchCreated(batch.Length);
            durable = CountDurable(batch);
            if (durable > 0)
            {
                try
                {
                    await _store.BeginRequestAsync(requestGuid, batch).ConfigureAwait(false);
                    recordWritten = true;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Without its record the batch may not go: an ack could not be applied. Try again later.
                    settled = true;
                    OnFailed(requestGuid, batch, durable, new SendOutcome(SendResult.InvalidResponse, Detail: "request record not written: " + ex.Message), recordWritten: false);
                    return;
                }
            }

            Interlocked.Increment(ref _counters.BatchesSent);
            Interlocked.Add(ref _counters.EventsSent, batch.Length);
            var outcome = await _diagnostics.SendAsync(_transport, requestGuid, batch, _shutdown.Token).ConfigureAwait(false);
            settled = true;
            _reachability.OnOutcome(outcome);
            if (outcome.IsAcknowledged)
            {
                await OnAcknowledgedAsync(requestGuid, batch, durable).ConfigureAwait(false);
            }
            else
            {
                OnFailed(requestGuid, batch, durable, outcome, recordWritten);
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutdown: QoS1 stays on disk for the next start; QoS0 is counted as dropped at the end.
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "egress", ex);
            if (!settled)
            {
                FailUnsettled(requestGuid, batch, durable, recordWritten, ex);
            }
        }
    }

    /// <summary>A batch whose handling threw before it had an outcome: a failure like any other, so that it is retried.</summary>
    private void FailUnsettled(Guid requestGuid, EventEnvelope[] batch, int durable, bool recordWritten, Exception exception)
    {
        try
        {
            // Abandoned: whatever threw may still hold the batch, so its pooled envelopes are not recycled.
            OnFailed(requestGuid, batch, durable, FailureClassifier.FromException(exception) with { Abandoned = true }, recordWritten);
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "egress", ex);
        }
    }

    private async Task OnAcknowledgedAsync(Guid requestGuid, EventEnvelope[] batch, int durable)
    {
        _policy.OnSuccess();
        Volatile.Write(ref _lastAcknowledged, _timeProvider.GetTimestamp());
        if (_episodes.OnSuccess() is > 0 and var failures)
        {
            Log.DeliveryRestored(_logger, failures);
        }

        if (durable > 0)
        {
            try
            {
                await _store.AcknowledgeAsync(requestGuid, batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The server has the events; they stay on disk and are sent again at the next start
                // (a duplicate, which at-least-once allows). They count as delivered now.
                Log.StoreOperationFailed(_logger, "acknowledge", ex);
            }
        }

        _diagnostics.BatchAcknowledged(requestGuid, batch.Length);
        Interlocked.Increment(ref _counters.BatchesAcknowledged);
        Interlocked.Add(ref _counters.EventsAcknowledged, batch.Length);
        if (batch.Length > durable)
        {
            _budget.Release(batch.Length - durable);
        }

        DeliveryEpochs.Complete(batch);
        _counters.NotifyChanged();

        // Last: nothing reads the QoS0 envelopes of this batch after this (see EventEnvelope on ownership).
        if (batch.Length > durable)
        {
            EnvelopePool.Return(batch);
        }
    }

    private void OnFailed(Guid requestGuid, EventEnvelope[] batch, int durable, SendOutcome outcome, bool recordWritten)
    {
        var decision = _policy.OnFailure(outcome);
        if (recordWritten)
        {
            // Fire and forget: a record left behind only names events that are pending anyway, and every
            // record is cleared at the next start.
            _ = _store.ReleaseAsync(requestGuid, batch);
        }

        var dropped = batch.Length - durable;
        if (dropped > 0)
        {
            Interlocked.Add(ref _counters.DroppedSendFailed, dropped);
            _budget.Release(dropped);
            DeliveryEpochs.Complete(Select(batch, durable: false, dropped));

            // Dropped for good (QoS0 is never retried): the pool gets them back, unless an abandoned send may still read
            // them. Only QoS1 envelopes go on below, and the release record above looks at QoS1 envelopes only.
            if (!outcome.Abandoned)
            {
                EnvelopePool.Return(batch);
            }
        }

        var delay = decision.Delay;
        if (durable > 0)
        {
            var events = durable == batch.Length ? batch : Select(batch, durable: true, durable);
            if (decision.Class == FailureClass.Rejection)
            {
                delay = Isolate(events, outcome);
            }
            else
            {
                ScheduleRetry(events, delay, toScheduler: true, networkFailure: outcome.Result is SendResult.NetworkError or SendResult.Timeout);
            }
        }

        Report(requestGuid, batch.Length, outcome, decision.Class, durable, delay, dropped);

        // Counted last: once BatchesFailed shows the failure, its retry timer or its halves exist, and it was reported.
        Interlocked.Increment(ref _counters.BatchesFailedByKind[(int)outcome.Result]);
        _diagnostics.BatchFailed(requestGuid, batch.Length, outcome);
        Interlocked.Increment(ref _counters.BatchesFailed);
        _counters.NotifyChanged();
    }

    /// <summary>Logs the first failure of each class in an episode (later ones at Debug), and reports a configuration fault once.</summary>
    private void Report(Guid requestGuid, int events, in SendOutcome outcome, FailureClass failureClass, int retried, TimeSpan delay, int dropped)
    {
        var kind = outcome.Result.ToString();
        if (!_episodes.OnFailure(failureClass))
        {
            Log.BatchFailedAgain(_logger, requestGuid, events, kind, outcome.Detail, retried, delay, dropped);
        }
        else if (failureClass == FailureClass.Configuration)
        {
            Log.ConfigurationFault(_logger, kind, outcome.StatusCode, outcome.Detail, delay);
            _diagnostics.ConfigurationFault(outcome);
        }
        else
        {
            Log.BatchFailed(_logger, requestGuid, events, kind, outcome.Detail, retried, delay, dropped);
        }
    }

    /// <summary>
    /// A rejection: halve the batch and send each half straight to this block (not through the scheduler, which would
    /// batch them together again), so that a refused event ends up alone in log2(n) rounds; a lone refused event is
    /// dead-lettered with the server's reason. Only while the endpoint acknowledges other requests, though: when it has
    /// acknowledged nothing for <see cref="RecentAckWindow"/>, the halves (or the lone event) wait the backoff first and
    /// nothing is dead-lettered, since a server that refuses everything is misconfigured, not full of bad events.
    /// </summary>
    /// <returns>The delay before the halves (or the lone event) are sent again.</returns>
    private TimeSpan Isolate(EventEnvelope[] events, SendOutcome outcome)
    {
        var recent = AcknowledgedRecently();
        if (events.Length == 1 && recent)
        {
            _ = DeadLetterAsync(events[0], outcome);
            return TimeSpan.Zero;
        }

        var delay = recent ? TimeSpan.Zero : _policy.Backoff();
        if (events.Length == 1)
        {
            ScheduleRetry(events, delay, toScheduler: false);
            return delay;
        }

        var half = events.Length / 2;
        Interlocked.Increment(ref _counters.BatchesSplit);
        if (recent)
        {
            _block.Post(events[..half]);
            _block.Post(events[half..]);
        }
        else
        {
            ScheduleRetry(events[..half], delay, toScheduler: false);
            ScheduleRetry(events[half..], delay, toScheduler: false);
        }

        return delay;
    }

    private bool AcknowledgedRecently()
    {
        var last = Volatile.Read(ref _lastAcknowledged);
        return last != long.MinValue && _timeProvider.GetElapsedTime(last) <= RecentAckWindow;
    }

    private async Task DeadLetterAsync(EventEnvelope envelope, SendOutcome outcome)
    {
        try
        {
            await _store.DeadLetterAsync(envelope, $"{outcome.Result} {outcome.StatusCode}: {outcome.Detail}").ConfigureAwait(false);
            _diagnostics.EventDeadLettered(outcome);
            Interlocked.Increment(ref _counters.DeadLettered);
            Log.EventDeadLettered(_logger, envelope.EventGuid, envelope.TypeInfo.Type, outcome.StatusCode, outcome.Detail);
            DeliveryEpochs.Complete([envelope]);
            _counters.NotifyChanged();
        }
        catch (Exception ex)
        {
            // Not moved: the event stays pending and is tried again, like any failed event.
            Log.StoreOperationFailed(_logger, "dead-letter", ex);
            ScheduleRetry([envelope], _policy.Backoff(), toScheduler: true);
        }
    }

    /// <summary>
    /// Sends <paramref name="events"/> again after <paramref name="delay"/>: through the scheduler (batched with others), or
    /// alone to this block. A retry through the scheduler waits at the gate (see the remarks); a network failure's parks
    /// at once while the gate is closed.
    /// </summary>
    private void ScheduleRetry(EventEnvelope[] events, TimeSpan delay, bool toScheduler, bool networkFailure = false)
    {
        var retry = new PendingRetry(this, events, toScheduler, afterFailure: true, networkFailure);
        if (toScheduler)
        {
            lock (_gateLock)
            {
                _waiting.Add(retry);
                if (!_gateOpen && networkFailure)
                {
                    retry.Parked = true;
                    return;
                }
            }
        }

        retry.Timer = _timeProvider.CreateTimer(static s => ((PendingRetry)s!).Fire(), retry, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A batch taken from the block while the gate is closed waits at it, unsent, instead of costing a failed request.</summary>
    private bool ParkIfGateClosed(EventEnvelope[] batch)
    {
        // Read without the lock first: the gate is open nearly always, and a batch sent just as it closes only fails.
        if (Volatile.Read(ref _gateOpen))
        {
            return false;
        }

        lock (_gateLock)
        {
            if (_gateOpen)
            {
                return false;
            }

            _waiting.Add(new PendingRetry(this, batch, toScheduler: false, afterFailure: false, networkFailure: false) { Parked = true });
            return true;
        }
    }

    /// <summary>A retry's delay ended: true if it goes now; false if it parks at the closed gate or has gone already.</summary>
    private bool TakeDue(PendingRetry retry)
    {
        lock (_gateLock)
        {
            if (retry.Taken)
            {
                return false;
            }

            if (!_gateOpen && retry.ToScheduler)
            {
                retry.Parked = true;
                return false;
            }

            retry.Taken = true;
            _waiting.Remove(retry);
            return true;
        }
    }

    /// <summary>
    /// The scheduler's gate changed, in the scheduler's turn. Opening: the parked batches and the network failures' retries go to
    /// this block now, oldest first, before the scheduler feeds the events it held; and the shared backoff starts over.
    /// </summary>
    public void OnGateChanged(bool open)
    {
        List<PendingRetry>? released = null;
        lock (_gateLock)
        {
            Volatile.Write(ref _gateOpen, open);
            if (!open)
            {
                return;
            }

            for (var i = 0; i < _waiting.Count; i++)
            {
                var retry = _waiting[i];
                if (retry.Parked || retry.NetworkFailure)
                {
                    retry.Taken = true;
                    (released ??= []).Add(retry);
                }
            }

            if (released is not null)
            {
                _waiting.RemoveAll(static r => r.Taken);
            }
        }

        _policy.OnSuccess();
        if (released is null)
        {
            return;
        }

        released.Sort(static (a, b) => a.FirstId.CompareTo(b.FirstId));
        var events = 0;
        foreach (var retry in released)
        {
            events += retry.Release();
        }

        Log.WaitingBatchesReleased(_logger, released.Count, events);
    }

    /// <summary>DropOldest, over the bound: this batch's QoS0 events are the oldest not sent; drop as many as the excess.</summary>
    private EventEnvelope[] DropOldestInstant(EventEnvelope[] batch)
    {
        var instant = batch.Length - CountDurable(batch);
        var drop = _budget.TryTakeExcess(instant);
        if (drop == 0)
        {
            return batch;
        }

        var dropped = new EventEnvelope[drop];
        var kept = new EventEnvelope[batch.Length - drop];
        int d = 0, k = 0;
        foreach (var e in batch)
        {
            if (!e.Durable && d < drop)
            {
                dropped[d++] = e;
            }
            else
            {
                kept[k++] = e;
            }
        }

        InstantBudget.Drop(dropped, _counters);
        return kept;
    }

    private static int CountDurable(EventEnvelope[] batch)
    {
        var count = 0;
        foreach (var e in batch)
        {
            if (e.Durable)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The QoS1 (or QoS0) events of a batch; <paramref name="count"/> of them are known to be there.</summary>
    private static EventEnvelope[] Select(EventEnvelope[] batch, bool durable, int count)
    {
        var result = new EventEnvelope[count];
        var j = 0;
        foreach (var e in batch)
        {
            if (e.Durable == durable)
            {
                result[j++] = e;
            }
        }

        return result;
    }

    /// <summary>
    /// A failed batch waiting for its backoff delay (one timer per failed batch, disposed when it fires), or a batch
    /// parked at the closed gate. <see cref="Parked"/> and <see cref="Taken"/> are read and written under the gate lock.
    /// </summary>
    private sealed class PendingRetry(EgressController owner, EventEnvelope[] events, bool toScheduler, bool afterFailure, bool networkFailure)
    {
        public ITimer? Timer { get; set; }

        public bool ToScheduler => toScheduler;

        public bool NetworkFailure => networkFailure;

        /// <summary>Due, or never timed: goes when the gate opens.</summary>
        public bool Parked { get; set; }

        /// <summary>Gone back (by its timer or by the gate opening); nothing may send it again.</summary>
        public bool Taken { get; set; }

        public long FirstId => events[0].Id;

        public void Fire()
        {
            Timer?.Dispose();
            if (owner._shutdown.IsCancellationRequested || !owner.TakeDue(this))
            {
                return;
            }

            Count();
            if (toScheduler)
            {
                owner._retries.Post(FlowMessage.Retry(events));
            }
            else
            {
                owner._block.Post(events);
            }
        }

        /// <summary>The gate opened: straight to the block (the scheduler would put these behind the newer events it held).</summary>
        public int Release()
        {
            Timer?.Dispose();
            if (owner._shutdown.IsCancellationRequested)
            {
                return 0;
            }

            Count();
            owner._block.Post(events);
            return events.Length;
        }

        private void Count()
        {
            if (afterFailure)
            {
                owner._diagnostics.BatchRetried(events.Length);
                Interlocked.Increment(ref owner._counters.BatchesRetried);
            }
        }
    }
}
