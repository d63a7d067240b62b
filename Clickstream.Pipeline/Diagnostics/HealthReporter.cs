using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>
/// Reports <see cref="ClickstreamHealthEvent"/>s: counts each kind (read by the <c>clickstream.health.events</c>
/// instrument) and passes it to the app's observer, if any. Called at batch level only, never per event: drops and
/// evictions are read from the <see cref="PipelineCounters"/> and reported as the change since the last report.
/// The observer is called serially (one call at a time, as <see cref="IObserver{T}"/> expects); whatever it throws
/// is caught, counted and logged once, and never reaches the pipeline.
/// </summary>
internal sealed class HealthReporter
{
    private static readonly string[] KindNames = CreateKindNames();

    private static readonly string[] DropReasons = ["overflow", "send_failed", "shutdown", "cancelled", "store_failed"];

    private static readonly string[] EvictionReasons = ["over_capacity", "expired"];

    private readonly Lock _lock = new();
    private readonly IObserver<ClickstreamHealthEvent>? _observer;
    private readonly PipelineCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly long[] _reported = new long[KindNames.Length];
    private readonly long[] _droppedSoFar = new long[DropReasons.Length];
    private readonly long[] _evictedSoFar = new long[EvictionReasons.Length];
    private long _observerErrors;
    private bool _completed;

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

    public void Report(ClickstreamHealthEventKind kind, int eventCount, Guid? requestGuid = null, string? reason = null, string? detail = null)
    {
        Interlocked.Increment(ref _reported[(int)kind]);
        if (_observer is null)
        {
            return;
        }

        var health = new ClickstreamHealthEvent
        {
            Kind = kind,
            Timestamp = _timeProvider.GetUtcNow(),
            EventCount = eventCount,
            RequestGuid = requestGuid,
            Reason = reason,
            Detail = detail,
        };
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            try
            {
                _observer.OnNext(health);
            }
            catch (Exception ex)
            {
                OnObserverError(ex);
            }
        }
    }

    /// <summary>Reports the events dropped and evicted since the last call, one health event per reason that changed.</summary>
    public void ReportLosses()
    {
        // The counters are read under the lock so that two reporters never report the same change twice.
        lock (_lock)
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

    /// <summary>The pipeline stopped: reports what was lost since the last report, then completes the observer.</summary>
    public void Complete()
    {
        ReportLosses();
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            try
            {
                _observer?.OnCompleted();
            }
            catch (Exception ex)
            {
                OnObserverError(ex);
            }
        }
    }

    /// <summary>Called under the lock; the lock is reentrant, so <see cref="Report"/> may take it again.</summary>
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
