namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// Capped exponential backoff with full jitter, for reconnecting: after the n-th failure in a row (counted from 0)
/// the delay is a uniform random value in [0, min(cap, base x 2^n)). A success starts over.
/// </summary>
/// <remarks>
/// Full jitter (rather than a fixed or "equal" jitter) spreads the reconnects of many clients dropped at once, as by a
/// collector restart, over the whole window instead of sending them back in a burst. The class does no I/O and reads
/// no clock; it is not thread-safe: its owner serializes the calls. Tests give it a seeded <see cref="Random"/>.
/// </remarks>
internal sealed class JitteredBackoff
{
    // 2^30 x any sensible base is far beyond any cap; bounding the exponent keeps the shift from overflowing.
    private const int MaxExponent = 30;

    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private readonly Random _random;

    public JitteredBackoff(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        ArgumentNullException.ThrowIfNull(random);
        _baseDelay = baseDelay;
        _maxDelay = maxDelay;
        _random = random;
    }

    /// <summary>Failures since the last success.</summary>
    public int FailuresInARow { get; private set; }

    /// <summary>Records a failure and returns how long to wait before the next attempt.</summary>
    public TimeSpan NextDelay()
    {
        var ceiling = Ceiling(_baseDelay, _maxDelay, FailuresInARow);
        if (FailuresInARow < int.MaxValue)
        {
            FailuresInARow++;
        }

        return Jitter(ceiling, _random.NextDouble());
    }

    /// <summary>A success: the next failure waits at most the base delay again.</summary>
    public void Reset() => FailuresInARow = 0;

    /// <summary>The upper bound of the delay after <paramref name="failures"/> earlier failures: min(cap, base x 2^failures).</summary>
    public static TimeSpan Ceiling(TimeSpan baseDelay, TimeSpan maxDelay, int failures)
    {
        var exponent = Math.Clamp(failures, 0, MaxExponent);
        var ticks = baseDelay.Ticks * (double)(1L << exponent);
        return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Scales <paramref name="ceiling"/> by a sample in [0, 1).</summary>
    public static TimeSpan Jitter(TimeSpan ceiling, double sample) =>
        TimeSpan.FromTicks((long)(ceiling.Ticks * Math.Clamp(sample, 0.0, 1.0)));
}
