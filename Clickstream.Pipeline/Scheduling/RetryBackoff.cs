namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// Capped exponential backoff over failures in a row: base, 2 x base, 4 x base ... up to the cap; a success
/// starts over. Shared by every batch, so that many batches failing at once wait together instead of
/// each starting from the base delay.
/// </summary>
internal sealed class RetryBackoff
{
    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private int _failuresInARow;

    public RetryBackoff(TimeSpan baseDelay, TimeSpan maxDelay)
    {
        _baseDelay = baseDelay;
        _maxDelay = maxDelay;
    }

    public int FailuresInARow => Volatile.Read(ref _failuresInARow);

    /// <summary>Records a failure and returns how long its batch waits before it is sent again.</summary>
    public TimeSpan OnFailure()
    {
        var failures = Interlocked.Increment(ref _failuresInARow);
        return DelayAfter(failures);
    }

    public void OnSuccess() => Volatile.Write(ref _failuresInARow, 0);

    /// <summary>The delay after <paramref name="failures"/> failures in a row (1 or more).</summary>
    public TimeSpan DelayAfter(int failures)
    {
        // 2^(n-1), with the exponent bounded so that the multiplication cannot overflow.
        var exponent = Math.Min(Math.Max(failures, 1) - 1, 30);
        var ticks = _baseDelay.Ticks * (double)(1L << exponent);
        return ticks >= _maxDelay.Ticks ? _maxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
