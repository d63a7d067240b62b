using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// The egress's batches that wait to be sent again: a failed batch on its backoff timer (one timer per failed batch,
/// disposed when it fires), and a batch parked at the closed reachability gate. A retry goes back through the scheduler
/// (batched with others) or alone to the egress block.
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
internal sealed class WaitingBatches
{
    private readonly ITargetBlock<EventEnvelope[]> _egress;
    private readonly ITargetBlock<FlowMessage> _retries;
    private readonly RetryPolicy _policy;
    private readonly PipelineCounters _counters;
    private readonly EgressDiagnostics _diagnostics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationToken _shutdown;

    // The gate as the scheduler last told it, and the retries that have not gone back yet (on their timer, or parked at
    // the closed gate); both under _gateLock. A retry leaves the list exactly once: by its timer or by the gate opening.
    private readonly Lock _gateLock = new();
    private readonly List<PendingRetry> _waiting = [];
    private bool _gateOpen = true;

    /// <param name="egress">The egress block: where parked batches, released retries and retries of split halves go.</param>
    /// <param name="retries">The scheduler's input: where a retry to be batched with others goes.</param>
    /// <param name="policy">The shared backoff, started over when the gate opens.</param>
    /// <param name="counters">The pipeline's counters (batches retried).</param>
    /// <param name="diagnostics">The egress's metrics (batches retried).</param>
    /// <param name="timeProvider">Times the backoff delays.</param>
    /// <param name="logger">Logs the batches released when the gate opens.</param>
    /// <param name="shutdown">The egress's shutdown: nothing is sent again after it.</param>
    public WaitingBatches(
        ITargetBlock<EventEnvelope[]> egress,
        ITargetBlock<FlowMessage> retries,
        RetryPolicy policy,
        PipelineCounters counters,
        EgressDiagnostics diagnostics,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken shutdown)
    {
        _egress = egress;
        _retries = retries;
        _policy = policy;
        _counters = counters;
        _diagnostics = diagnostics;
        _timeProvider = timeProvider;
        _logger = logger;
        _shutdown = shutdown;
    }

    /// <summary>
    /// Sends <paramref name="events"/> again after <paramref name="delay"/>: through the scheduler (batched with others), or
    /// alone to the egress block. A retry through the scheduler waits at the gate (see the remarks); a network failure's
    /// parks at once while the gate is closed.
    /// </summary>
    public void ScheduleRetry(EventEnvelope[] events, TimeSpan delay, bool toScheduler, bool networkFailure = false)
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
    public bool ParkIfGateClosed(EventEnvelope[] batch)
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

    /// <summary>
    /// The scheduler's gate changed, in the scheduler's turn. Opening: the parked batches and the network failures' retries go to
    /// the egress block now, oldest first, before the scheduler feeds the events it held; and the shared backoff starts over.
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
    /// A failed batch waiting for its backoff delay (one timer per failed batch, disposed when it fires), or a batch
    /// parked at the closed gate. <see cref="Parked"/> and <see cref="Taken"/> are read and written under the gate lock.
    /// </summary>
    private sealed class PendingRetry(WaitingBatches owner, EventEnvelope[] events, bool toScheduler, bool afterFailure, bool networkFailure)
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
                owner._egress.Post(events);
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
            owner._egress.Post(events);
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
