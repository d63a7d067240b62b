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
/// events back to the scheduler after the <see cref="RetryPolicy"/>'s delay (never a hot loop; <see cref="WaitingBatches"/>);
/// a rejection splits the batch in halves until each refused event is alone, and a lone refused event is dead-lettered
/// only while the endpoint acknowledges other requests (<see cref="RejectionSplitter"/>). QoS0 events of a failed request
/// are dropped and counted (QoS0 is at-most-once). Failures are logged once per episode (<see cref="FailureReporter"/>).
/// </summary>
/// <remarks>
/// Batches wait at the reachability gate, not on a backoff, once the gate has closed: a batch taken from the block while
/// it is closed is parked instead of sent, and when it opens the parked batches and the network failures' retries go
/// first (<see cref="WaitingBatches"/>, <see cref="OnGateChanged"/>).
/// </remarks>
internal sealed class EgressController
{
    private readonly ActionBlock<EventEnvelope[]> _block;
    private readonly IEventTransport _transport;
    private readonly EventStore _store;
    private readonly ReachabilityMonitor _reachability;
    private readonly RetryPolicy _policy;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly InstantBudget _budget;
    private readonly ChunkPool? _chunks;
    private readonly EgressDiagnostics _diagnostics;
    private readonly WaitingBatches _waiting;
    private readonly RejectionSplitter _rejections;
    private readonly FailureReporter _failures;

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
        TimeSpan sendDeadline,
        ChunkPool? chunks = null)
    {
        // chunks: where an acknowledged QoS0 batch's array goes back, to be read into by the ingress again.
        _chunks = chunks;
        _diagnostics = diagnostics;
        _transport = new SendGuard(transport, sendDeadline, timeProvider);
        _store = store;
        _reachability = reachability;
        _policy = policy;
        _counters = counters;
        _logger = logger;
        _budget = budget;
        _block = new ActionBlock<EventEnvelope[]>(
            SendAsync,
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = maxConcurrentRequests, EnsureOrdered = false });
        _waiting = new WaitingBatches(_block, retries, policy, counters, diagnostics, timeProvider, logger, _shutdown.Token);
        _rejections = new RejectionSplitter(_block, _waiting, store, policy, counters, diagnostics, timeProvider, logger);
        _failures = new FailureReporter(logger, diagnostics);
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

    /// <summary>
    /// The scheduler's gate changed, in the scheduler's turn. Opening: the parked batches and the network failures' retries go to
    /// this block now, oldest first, before the scheduler feeds the events it held; and the shared backoff starts over.
    /// </summary>
    public void OnGateChanged(bool open) => _waiting.OnGateChanged(open);

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
            if (_shutdown.IsCancellationRequested || _waiting.ParkIfGateClosed(batch))
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
        _rejections.OnAcknowledged();
        _failures.OnAcknowledged();

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

        // Last: nothing reads the QoS0 envelopes of this batch after this (see EventEnvelope on ownership), nor, when
        // none went to the store, the array.
        if (batch.Length > durable)
        {
            EnvelopePool.Return(batch);
            if (durable == 0)
            {
                _chunks?.Return(batch);
            }
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
            DeliveryEpochs.Complete(EventEnvelope.Where(batch, dropped, static e => !e.Durable));

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
            var events = durable == batch.Length ? batch : EventEnvelope.Where(batch, durable, static e => e.Durable);
            if (decision.Class == FailureClass.Rejection)
            {
                delay = _rejections.Isolate(events, outcome);
            }
            else
            {
                _waiting.ScheduleRetry(events, delay, toScheduler: true, networkFailure: outcome.Result is SendResult.NetworkError or SendResult.Timeout);
            }
        }

        _failures.OnFailed(requestGuid, batch.Length, outcome, decision.Class, durable, delay, dropped);

        // Counted last: once BatchesFailed shows the failure, its retry timer or its halves exist, and it was reported.
        Interlocked.Increment(ref _counters.BatchesFailedByKind[(int)outcome.Result]);
        _diagnostics.BatchFailed(requestGuid, batch.Length, outcome);
        Interlocked.Increment(ref _counters.BatchesFailed);
        _counters.NotifyChanged();
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

}
