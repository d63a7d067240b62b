using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// What becomes of the QoS1 events of a rejected batch (<see cref="FailureClass.Rejection"/>): the batch is halved until
/// each refused event is alone, and a lone refused event is dead-lettered with the server's reason, only while the
/// endpoint acknowledges other requests (<see cref="RecentAckWindow"/>).
/// </summary>
/// <remarks>
/// Splitting itself is harmless (nothing is lost) and is what gets a batch over the server's size limit through, so it
/// always happens; while nothing is acknowledged the pieces wait the backoff instead of going at once.
/// </remarks>
internal sealed class RejectionSplitter
{
    /// <summary>
    /// How recently the endpoint must have acknowledged a request for a lone refused event to be dead-lettered: a server
    /// that refuses everything is misconfigured (a proxy, a wrong deployment), and its refusals say nothing about the events.
    /// </summary>
    public static readonly TimeSpan RecentAckWindow = TimeSpan.FromMinutes(5);

    private readonly ITargetBlock<EventEnvelope[]> _egress;
    private readonly WaitingBatches _waiting;
    private readonly EventStore _store;
    private readonly RetryPolicy _policy;
    private readonly PipelineCounters _counters;
    private readonly EgressDiagnostics _diagnostics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // The TimeProvider timestamp of the latest acknowledged request; long.MinValue until there is one.
    private long _lastAcknowledged = long.MinValue;

    /// <param name="egress">The egress block: where the halves go while the endpoint acknowledges other requests.</param>
    /// <param name="waiting">Where the halves wait the backoff otherwise, and where an event the store could not dead-letter is retried.</param>
    /// <param name="store">Where a lone refused event is dead-lettered.</param>
    /// <param name="policy">The shared backoff.</param>
    /// <param name="counters">The pipeline's counters (batches split, events dead-lettered).</param>
    /// <param name="diagnostics">The egress's metrics and health events.</param>
    /// <param name="timeProvider">Tells how long ago the last ack was.</param>
    /// <param name="logger">Logs each dead-lettered event.</param>
    public RejectionSplitter(
        ITargetBlock<EventEnvelope[]> egress,
        WaitingBatches waiting,
        EventStore store,
        RetryPolicy policy,
        PipelineCounters counters,
        EgressDiagnostics diagnostics,
        TimeProvider timeProvider,
        ILogger logger)
    {
        _egress = egress;
        _waiting = waiting;
        _store = store;
        _policy = policy;
        _counters = counters;
        _diagnostics = diagnostics;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>A request was acknowledged: the endpoint takes requests, so its refusals are about the events.</summary>
    public void OnAcknowledged() => Volatile.Write(ref _lastAcknowledged, _timeProvider.GetTimestamp());

    /// <summary>
    /// A rejection: halve the batch and send each half straight to the egress block (not through the scheduler, which would
    /// batch them together again), so that a refused event ends up alone in log2(n) rounds; a lone refused event is
    /// dead-lettered with the server's reason. Only while the endpoint acknowledges other requests, though: when it has
    /// acknowledged nothing for <see cref="RecentAckWindow"/>, the halves (or the lone event) wait the backoff first and
    /// nothing is dead-lettered, since a server that refuses everything is misconfigured, not full of bad events.
    /// </summary>
    /// <param name="events">The QoS1 events of the rejected batch.</param>
    /// <param name="outcome">The rejection.</param>
    /// <returns>The delay before the halves (or the lone event) are sent again.</returns>
    public TimeSpan Isolate(EventEnvelope[] events, SendOutcome outcome)
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
            _waiting.ScheduleRetry(events, delay, toScheduler: false);
            return delay;
        }

        var half = events.Length / 2;
        Interlocked.Increment(ref _counters.BatchesSplit);
        if (recent)
        {
            _egress.Post(events[..half]);
            _egress.Post(events[half..]);
        }
        else
        {
            _waiting.ScheduleRetry(events[..half], delay, toScheduler: false);
            _waiting.ScheduleRetry(events[half..], delay, toScheduler: false);
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
            _waiting.ScheduleRetry([envelope], _policy.Backoff(), toScheduler: true);
        }
    }
}
