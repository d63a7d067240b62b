using System.Threading.Tasks.Sources;

namespace Clickstream.Pipeline.Flow;

/// <summary>
/// The ingress pump's wait between two reads while events keep coming: it ends when its own timer fires or when a
/// writer wakes it (<see cref="Wake"/>), whichever comes first. While the pump lingers here no reader waits on the
/// channel, so a QoS0 write is an enqueue and nothing more: no thread-pool dispatch per event.
/// </summary>
/// <remarks>
/// One waiter at a time (the pump), reused without allocating. The timer ends the wait inline, on the timer's thread:
/// the pump then hands what it read to the scheduler before any timer due later (the scheduler's own) posts behind it,
/// which keeps the order of a <see cref="TimeProvider"/> the tests advance. A writer's wake runs the pump on the thread
/// pool instead: the app's thread returns at once.
/// </remarks>
internal sealed class IngressLinger : IValueTaskSource, IDisposable
{
    private const int Done = 0;
    private const int Waiting = 1;

    private readonly ITimer _timer;
    private readonly TimeSpan _delay;
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _state;
    private bool _resumedOnWriter;

    public IngressLinger(TimeProvider time, TimeSpan delay)
    {
        _delay = delay;
        _timer = time.CreateTimer(static s => ((IngressLinger)s!).Wake(inline: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the pump is lingering: a writer with a reason to wake it calls <see cref="Wake"/>.</summary>
    public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    /// <summary>Whether the last wait ended with <see cref="WakeOnWriter"/>: the pump runs on that writer's thread.</summary>
    public bool ResumedOnWriter => _resumedOnWriter;

    /// <summary>
    /// Starts a wait of the linger delay. The caller checks its reasons to go on after this (a full fence) and calls
    /// <see cref="Wake"/> itself if one is there: a writer that set its reason before then found no waiter.
    /// </summary>
    public ValueTask StartAsync()
    {
        _core.Reset();
        Interlocked.Exchange(ref _state, Waiting);
        _timer.Change(_delay, Timeout.InfiniteTimeSpan);
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Ends the wait, if one is on; <paramref name="inline"/>: the pump goes on on this thread.</summary>
    public void Wake(bool inline) => End(inline, onWriter: false);

    /// <summary>
    /// Ends the wait, if one is on, and the pump reads on this thread, a writer's that waits for its event's commit
    /// anyway: no thread-pool dispatch between its write and the store. The pump reads at most once so
    /// (<see cref="ResumedOnWriter"/>), then goes on on the thread pool if it has more to do.
    /// </summary>
    public void WakeOnWriter() => End(inline: true, onWriter: true);

    public void Dispose() => _timer.Dispose();

    private void End(bool inline, bool onWriter)
    {
        if (Interlocked.CompareExchange(ref _state, Done, Waiting) == Waiting)
        {
            _resumedOnWriter = onWriter;
            _core.RunContinuationsAsynchronously = !inline;
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
