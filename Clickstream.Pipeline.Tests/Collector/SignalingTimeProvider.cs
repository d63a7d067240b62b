using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>
/// A fake clock that tells when the collector has started a wait on it (a delayed answer), so that a test advances it
/// at the right moment instead of sleeping.
/// </summary>
internal sealed class SignalingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private int _timers;

    /// <summary>Completes once a first timer was created.</summary>
    public Task TimerCreated => TimersCreated(1);

    /// <summary>Completes once <paramref name="count"/> timers in all were created.</summary>
    public Task TimersCreated(int count)
    {
        lock (_lock)
        {
            if (_timers >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, done));
            return done.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_lock)
        {
            _timers++;
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _timers)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        return timer;
    }
}
