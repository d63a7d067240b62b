namespace Clickstream.Collector.Faults;

/// <summary>
/// Runs an <see cref="OutageSchedule"/> on a <see cref="TimeProvider"/> timer: down at k x period, up again a duration
/// later. A test's fake clock fires it inside <c>Advance</c>, so the state has changed when <c>Advance</c> returns.
/// </summary>
internal sealed class OutageTimer : IDisposable
{
    private readonly OutageSchedule _schedule;
    private readonly Action _goDown;
    private readonly Func<bool> _tryComeBack;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private bool _inOutage;
    private bool _disposed;

    /// <param name="schedule">The outages.</param>
    /// <param name="timeProvider">The clock; the first outage starts one period from now.</param>
    /// <param name="goDown">Takes the collector down.</param>
    /// <param name="tryComeBack">Brings it back; false if it could not (it then stays down until the next outage ends).</param>
    public OutageTimer(OutageSchedule schedule, TimeProvider timeProvider, Action goDown, Func<bool> tryComeBack)
    {
        _schedule = schedule;
        _goDown = goDown;
        _tryComeBack = tryComeBack;

        // Created under the lock, so that a tick on another thread waits until the field is set.
        lock (_lock)
        {
            _timer = timeProvider.CreateTimer(static state => ((OutageTimer)state!).OnTick(), this, schedule.Period, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer.Dispose();
        }
    }

    private void OnTick()
    {
        lock (_lock)
        {
            // A tick already queued when the schedule was replaced must not switch anything.
            if (_disposed)
            {
                return;
            }

            if (_inOutage)
            {
                // If the port is taken meanwhile, it stays down a whole period and tries again at the next outage's end.
                _tryComeBack();
                _inOutage = false;
                _timer.Change(_schedule.Period - _schedule.Duration, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _goDown();
                _inOutage = true;
                _timer.Change(_schedule.Duration, Timeout.InfiniteTimeSpan);
            }
        }
    }
}
