using System.Diagnostics;

namespace Clickstream.Collector;

/// <summary>Tasks that complete when a counter reaches a target: no polling, no sleeping.</summary>
internal sealed class EventCountWaiters
{
    private readonly Lock _lock = new();
    private readonly List<Waiter> _waiters = [];

    // The smallest pending target, long.MaxValue when none: lets the hot path skip the lock.
    private long _nextTarget = long.MaxValue;

    /// <summary>Completes when <paramref name="counter"/> is at least <paramref name="target"/>.</summary>
    public Task WaitAsync(long target, ref long counter, CancellationToken cancellationToken)
    {
        if (Interlocked.Read(ref counter) >= target)
        {
            return Task.CompletedTask;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var waiter = new Waiter(this, target);

        // Registered before the waiter is listed, so that Complete (which runs under the lock, after the waiter
        // is listed) always sees the registration to dispose.
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(
                static (state, token) => ((Waiter)state!).Cancel(token), waiter);
        }

        lock (_lock)
        {
            if (waiter.Completion.Task.IsCompleted)
            {
                // Canceled between the check above and the registration.
                return waiter.Completion.Task;
            }

            _waiters.Add(waiter);
            Interlocked.Exchange(ref _nextTarget, Math.Min(_nextTarget, target));
        }

        // Race: an increment that landed after our first read may have read _nextTarget before we lowered it,
        // and skipped the wake-up. Both sides use full fences (Interlocked.Exchange above, Interlocked.Add in
        // the incrementer) before reading the other's variable, so at least one of them sees the other: check again.
        OnCountChanged(Interlocked.Read(ref counter), ref counter);

        return waiter.Completion.Task;
    }

    /// <summary>Releases the waiters whose target <paramref name="total"/> reached. Called after every increment.</summary>
    public void OnCountChanged(long total, ref long counter)
    {
        if (total < Interlocked.Read(ref _nextTarget))
        {
            return;
        }

        lock (_lock)
        {
            // Re-read under the lock: the value may have moved on (or been reset) since the caller read it.
            long current = Interlocked.Read(ref counter);
            long next = long.MaxValue;
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                Waiter waiter = _waiters[i];
                if (waiter.Target <= current)
                {
                    _waiters.RemoveAt(i);
                    waiter.Complete();
                }
                else
                {
                    next = Math.Min(next, waiter.Target);
                }
            }

            Interlocked.Exchange(ref _nextTarget, next);
        }
    }

    /// <summary>Fails every pending waiter, e.g. when the collector stops.</summary>
    public void FailAll(Exception exception)
    {
        Waiter[] pending;
        lock (_lock)
        {
            pending = [.. _waiters];
            _waiters.Clear();
            Interlocked.Exchange(ref _nextTarget, long.MaxValue);
        }

        foreach (Waiter waiter in pending)
        {
            waiter.Fail(exception);
        }
    }

    private void Remove(Waiter waiter)
    {
        lock (_lock)
        {
            _waiters.Remove(waiter);
        }
    }

    private sealed class Waiter(EventCountWaiters owner, long target)
    {
        public long Target { get; } = target;

        // Continuations run asynchronously so that a test's code never runs inside the request handler.
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        // Unregister, not Dispose: Dispose waits for a running Cancel callback, which waits for the lock we may hold.
        public void Complete()
        {
            Registration.Unregister();
            Completion.TrySetResult();
        }

        public void Fail(Exception exception)
        {
            Registration.Unregister();
            Completion.TrySetException(exception);
        }

        public void Cancel(CancellationToken token)
        {
            Debug.Assert(token.IsCancellationRequested, "Called by the token's registration.");
            owner.Remove(this);
            Completion.TrySetCanceled(token);
        }
    }
}
