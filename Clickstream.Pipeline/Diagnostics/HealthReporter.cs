using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>
/// Reports <see cref="ClickstreamHealthEvent"/>s: counts each kind (read by the <c>clickstream.health.events</c>
/// instrument) and passes it to the app's observer, if any. Called at batch level only, never per event: drops and
/// evictions are read from the <see cref="PipelineCounters"/> and reported as the change since the last report.
/// </summary>
/// <remarks>
/// The observer is app code, so it never runs on the thread that reports: <see cref="Report"/> only appends to a
/// queue (callers may hold pipeline locks), and one thread-pool work item at a time drains it, in order, holding no
/// lock. An observer may therefore call back into the pipeline (<c>Pause</c>, <c>FlushAsync</c>, even wait for
/// them) from its own or another thread without a deadlock, and one that hangs holds up only later health events,
/// never delivery. Calls never overlap (as <see cref="IObserver{T}"/> expects); whatever the observer throws is
/// caught, counted and logged once. While it hangs, at most <see cref="MaxQueued"/> events wait; later ones are
/// dropped, counted and logged once.
/// </remarks>
internal sealed class HealthReporter : IThreadPoolWorkItem
{
    /// <summary>Health events that wait for a slow observer before later ones are dropped.</summary>
    internal const int MaxQueued = 10_000;

    private static readonly string[] KindNames = CreateKindNames();

    private static readonly string[] DropReasons = ["overflow", "send_failed", "shutdown", "cancelled", "store_failed"];

    private static readonly string[] EvictionReasons = ["over_capacity", "expired"];

    private readonly Lock _lossLock = new();
    private readonly Lock _idleLock = new();
    private readonly IObserver<ClickstreamHealthEvent>? _observer;
    private readonly PipelineCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    // End marks the last entry: the drain calls OnCompleted when it reaches it.
    private readonly ConcurrentQueue<(ClickstreamHealthEvent Health, bool End)> _queue = new();
    private readonly long[] _reported = new long[KindNames.Length];
    private readonly long[] _droppedSoFar = new long[DropReasons.Length];
    private readonly long[] _evictedSoFar = new long[EvictionReasons.Length];
    private long _observerErrors;
    private long _observerDropped;
    private int _queued;
    private int _draining;
    private int _completed;
    private bool _observerCompleted;
    private TaskCompletionSource? _idle;

    public HealthReporter(IObserver<ClickstreamHealthEvent>? observer, PipelineCounters counters, TimeProvider timeProvider, ILogger logger)
    {
        _observer = observer;
        _counters = counters;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The tag value of a kind: <c>batch_sent</c>, <c>events_dropped</c>...</summary>
    public static string KindName(ClickstreamHealthEventKind kind) => KindNames[(int)kind];

    /// <summary>The number of kinds, to read <see cref="Reported"/> by index.</summary>
    public static int KindCount => KindNames.Length;

    /// <summary>How many events of <paramref name="kind"/> were reported.</summary>
    public long Reported(int kind) => Volatile.Read(ref _reported[kind]);

    /// <summary>Exceptions the observer threw.</summary>
    public long ObserverErrors => Volatile.Read(ref _observerErrors);

    /// <summary>Health events not passed to the observer because <see cref="MaxQueued"/> were waiting for it.</summary>
    public long ObserverDropped => Volatile.Read(ref _observerDropped);

    /// <summary>Counts a health event and queues it for the observer. Never runs app code; safe under any lock.</summary>
    public void Report(ClickstreamHealthEventKind kind, int eventCount, Guid? requestGuid = null, string? reason = null, string? detail = null)
    {
        Interlocked.Increment(ref _reported[(int)kind]);
        if (_observer is null || Volatile.Read(ref _completed) != 0)
        {
            return;
        }

        Enqueue(new ClickstreamHealthEvent
        {
            Kind = kind,
            Timestamp = _timeProvider.GetUtcNow(),
            EventCount = eventCount,
            RequestGuid = requestGuid,
            Reason = reason,
            Detail = detail,
        });
    }

    /// <summary>
    /// Completes once every health event queued before the call was passed to the observer (at once without one).
    /// An observer that hangs keeps it from completing: callers bound the wait.
    /// </summary>
    public Task WhenDelivered()
    {
        lock (_idleLock)
        {
            if (Volatile.Read(ref _draining) == 0 && _queue.IsEmpty)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>Reports the events dropped and evicted since the last call, one health event per reason that changed.</summary>
    public void ReportLosses()
    {
        // The counters are read under the lock so that two reporters never report the same change twice; Report
        // only queues, so holding it runs no app code.
        lock (_lossLock)
        {
            ReportChanges(ClickstreamHealthEventKind.EventsDropped, DropReasons, _droppedSoFar, [
                Volatile.Read(ref _counters.DroppedOverflow),
                Volatile.Read(ref _counters.DroppedSendFailed),
                Volatile.Read(ref _counters.DroppedShutdown),
                Volatile.Read(ref _counters.Cancelled),
                Volatile.Read(ref _counters.StoreFailed),
            ]);
            ReportChanges(ClickstreamHealthEventKind.EventsEvicted, EvictionReasons, _evictedSoFar, [
                Volatile.Read(ref _counters.EvictedOverCapacity),
                Volatile.Read(ref _counters.EvictedExpired),
            ]);
        }
    }

    /// <summary>
    /// The pipeline stopped: reports what was lost since the last report, then queues the observer's
    /// <see cref="IObserver{T}.OnCompleted"/>, called after every health event before it. Await
    /// <see cref="WhenDelivered"/> to know it was called.
    /// </summary>
    public void Complete()
    {
        ReportLosses();
        if (Interlocked.Exchange(ref _completed, 1) != 0 || _observer is null)
        {
            return;
        }

        // Not counted against MaxQueued: the observer must be told, however many events wait.
        _queue.Enqueue((default, true));
        ScheduleDrain();
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            while (_queue.TryDequeue(out var entry))
            {
                Deliver(entry.Health, entry.End);
            }

            // A full fence (not a release write): the emptiness check below must not be read before this store, or a
            // Report that queued meanwhile and saw _draining still 1 would be left in the queue with no drain scheduled.
            Interlocked.Exchange(ref _draining, 0);

            // A Report that queued after the loop emptied the queue but saw _draining still 1 scheduled nothing: take it.
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
            {
                break;
            }
        }

        // After _draining went to 0: a waiter that saw it at 1 made _idle before this lock, so it is released here.
        TaskCompletionSource? idle = null;
        lock (_idleLock)
        {
            if (Volatile.Read(ref _draining) == 0 && _queue.IsEmpty)
            {
                idle = _idle;
                _idle = null;
            }
        }

        idle?.TrySetResult();
    }

    private void Enqueue(ClickstreamHealthEvent health)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueued)
        {
            Interlocked.Decrement(ref _queued);
            if (Interlocked.Increment(ref _observerDropped) == 1)
            {
                Log.HealthObserverBehind(_logger, MaxQueued);
            }

            return;
        }

        _queue.Enqueue((health, false));
        ScheduleDrain();
    }

    private void ScheduleDrain()
    {
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Runs on the drain only: one call at a time, no lock held.</summary>
    private void Deliver(in ClickstreamHealthEvent health, bool end)
    {
        if (end)
        {
            _observerCompleted = true;
            try
            {
                _observer!.OnCompleted();
            }
            catch (Exception ex)
            {
                OnObserverError(ex);
            }

            return;
        }

        Interlocked.Decrement(ref _queued);
        if (_observerCompleted)
        {
            return;
        }

        try
        {
            _observer!.OnNext(health);
        }
        catch (Exception ex)
        {
            OnObserverError(ex);
        }
    }

    /// <summary>Called under the loss lock.</summary>
    private void ReportChanges(ClickstreamHealthEventKind kind, string[] reasons, long[] soFar, ReadOnlySpan<long> now)
    {
        for (var i = 0; i < reasons.Length; i++)
        {
            var change = now[i] - soFar[i];
            if (change > 0)
            {
                soFar[i] = now[i];
                Report(kind, (int)Math.Min(change, int.MaxValue), reason: reasons[i]);
            }
        }
    }

    private void OnObserverError(Exception ex)
    {
        if (Interlocked.Increment(ref _observerErrors) == 1)
        {
            Log.HealthObserverFailed(_logger, ex);
        }
    }

    private static string[] CreateKindNames()
    {
        var values = Enum.GetValues<ClickstreamHealthEventKind>();
        var names = new string[values.Length];
        foreach (var value in values)
        {
            names[(int)value] = Telemetry.SnakeCase(value.ToString());
        }

        return names;
    }
}
