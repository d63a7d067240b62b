using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// Sends each batch (a Dataflow <see cref="ActionBlock{T}"/>, several requests in flight): a new req_guid,
/// the request record written before the send, the send through the transport, then on an ack the record
/// and its events deleted in one transaction. On a transient failure the QoS1 events go back to the scheduler
/// after the <see cref="RetryPolicy"/>'s delay (never a hot loop); on a permanent rejection the batch is split
/// in halves, sent again at once, until each bad event is alone and is dead-lettered. QoS0 events of a failed
/// request are dropped and counted (QoS0 is at-most-once).
/// </summary>
internal sealed class EgressController
{
    private readonly ActionBlock<EventEnvelope[]> _block;
    private readonly IEventTransport _transport;
    private readonly EventStore _store;
    private readonly EventScheduler _scheduler;
    private readonly ReachabilityMonitor _reachability;
    private readonly RetryPolicy _policy;
    private readonly PipelineCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Action<int> _instantEventsDone;
    private readonly EgressDiagnostics _diagnostics;

    public EgressController(
        IEventTransport transport,
        EventStore store,
        EventScheduler scheduler,
        ReachabilityMonitor reachability,
        RetryPolicy policy,
        PipelineCounters counters,
        int maxConcurrentRequests,
        TimeProvider timeProvider,
        ILogger logger,
        Action<int> instantEventsDone,
        EgressDiagnostics diagnostics)
    {
        _diagnostics = diagnostics;
        _transport = transport;
        _store = store;
        _scheduler = scheduler;
        _reachability = reachability;
        _policy = policy;
        _counters = counters;
        _timeProvider = timeProvider;
        _logger = logger;
        _instantEventsDone = instantEventsDone;
        _block = new ActionBlock<EventEnvelope[]>(
            SendAsync,
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = maxConcurrentRequests, EnsureOrdered = false });
        scheduler.ConnectTo(_block);
    }

    public Task Completion => _block.Completion;

    /// <summary>Aborts the requests in flight; batches not sent yet are left alone (QoS1 stays on disk).</summary>
    public void Stop()
    {
        _shutdown.Cancel();
        _block.Complete();
    }

    private async Task SendAsync(EventEnvelope[] batch)
    {
        // Nothing may escape this delegate: an exception would fault the block and stop all delivery.
        try
        {
            if (_shutdown.IsCancellationRequested)
            {
                return;
            }

            _diagnostics.BatchCreated(batch.Length);
            var requestGuid = Guid.NewGuid();
            var durable = CountDurable(batch);
            if (durable > 0)
            {
                try
                {
                    await _store.BeginRequestAsync(requestGuid, batch).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Without its record the batch may not go: an ack could not be applied. Try again later.
                    OnFailed(requestGuid, batch, durable, new SendOutcome(SendResult.InvalidResponse, Detail: "request record not written: " + ex.Message), recordWritten: false);
                    return;
                }
            }

            Interlocked.Increment(ref _counters.BatchesSent);
            Interlocked.Add(ref _counters.EventsSent, batch.Length);
            var outcome = await _diagnostics.SendAsync(_transport, requestGuid, batch, _shutdown.Token).ConfigureAwait(false);
            _reachability.OnOutcome(outcome);
            if (outcome.IsAcknowledged)
            {
                await OnAcknowledgedAsync(requestGuid, batch, durable).ConfigureAwait(false);
            }
            else
            {
                OnFailed(requestGuid, batch, durable, outcome, recordWritten: durable > 0);
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutdown: QoS1 stays on disk for the next start; QoS0 is counted as dropped at the end.
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "egress", ex);
        }
    }

    private async Task OnAcknowledgedAsync(Guid requestGuid, EventEnvelope[] batch, int durable)
    {
        _policy.OnSuccess();
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
            _instantEventsDone(batch.Length - durable);
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
            _instantEventsDone(dropped);
            DeliveryEpochs.Complete(Select(batch, durable: false, dropped));

            // Dropped for good (QoS0 is never retried): the pool gets them back. Only QoS1 envelopes go on below,
            // and the release record above looks at QoS1 envelopes only.
            EnvelopePool.Return(batch);
        }

        Log.BatchFailed(_logger, requestGuid, batch.Length, outcome.Result.ToString(), outcome.Detail, durable, decision.Delay, dropped);
        if (durable > 0)
        {
            var events = durable == batch.Length ? batch : Select(batch, durable: true, durable);
            if (decision.Disposition == FailureDisposition.Retry)
            {
                ScheduleRetry(events, decision.Delay);
            }
            else
            {
                Isolate(events, outcome);
            }
        }

        // Counted last: once BatchesFailed shows the failure, its retry timer or its halves exist, and it was reported.
        Interlocked.Increment(ref _counters.BatchesFailedByKind[(int)outcome.Result]);
        _diagnostics.BatchFailed(requestGuid, batch.Length, outcome);
        Interlocked.Increment(ref _counters.BatchesFailed);
        _counters.NotifyChanged();
    }

    /// <summary>
    /// A permanent rejection: halve the batch and send each half at once, straight to this block (not through
    /// the scheduler, which would batch them together again), so that a bad event ends up alone in log2(n)
    /// rounds; a lone rejected event is dead-lettered with the server's reason.
    /// </summary>
    private void Isolate(EventEnvelope[] events, SendOutcome outcome)
    {
        if (events.Length == 1)
        {
            _ = DeadLetterAsync(events[0], outcome);
            return;
        }

        var half = events.Length / 2;
        Interlocked.Increment(ref _counters.BatchesSplit);
        _block.Post(events[..half]);
        _block.Post(events[half..]);
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
            ScheduleRetry([envelope], _policy.OnFailure(new SendOutcome(SendResult.ServerError)).Delay);
        }
    }

    private void ScheduleRetry(EventEnvelope[] events, TimeSpan delay)
    {
        var retry = new PendingRetry(this, events);
        retry.Timer = _timeProvider.CreateTimer(static s => ((PendingRetry)s!).Fire(), retry, delay, Timeout.InfiniteTimeSpan);
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

    /// <summary>A failed batch waiting for its backoff delay; one timer per failed batch, disposed when it fires.</summary>
    private sealed class PendingRetry(EgressController owner, EventEnvelope[] events)
    {
        public ITimer? Timer { get; set; }

        public void Fire()
        {
            Timer?.Dispose();
            if (owner._shutdown.IsCancellationRequested)
            {
                return;
            }

            owner._diagnostics.BatchRetried(events.Length);
            Interlocked.Increment(ref owner._counters.BatchesRetried);
            owner._scheduler.EnqueueRange(events);
        }
    }
}
