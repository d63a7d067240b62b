namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// When to probe a server marked unreachable: its own short cadence, never the batches' retry backoff. The k-th probe
/// after the server was marked down (k counted from 0) waits a uniform random time in [c/2, c), with
/// c = min(interval, interval / <see cref="FirstFraction"/> x 2^k): a few quick probes for a blip, then one every
/// half to whole <c>ProbeInterval</c> for as long as the outage lasts. An answer starts over.
/// </summary>
/// <remarks>
/// Equal jitter (half fixed, half random) rather than the full jitter of the retry backoff: the gap between two probes
/// is never less than c/2, so the request rate of a client while the server is down stays between 1/interval and
/// 2/interval; and never more than c, so the first probe after the server is back goes out within one interval. The
/// random half spreads many clients over the interval: clients cut off together drift apart by the sum of their
/// draws, so that they find the server back at different moments instead of all at once. Pure: no I/O, no clock; not
/// thread-safe (the monitor calls it under its lock). Tests give it a fixed or seeded <see cref="Random"/>.
/// </remarks>
internal sealed class ProbeSchedule
{
    /// <summary>The first probe's ceiling is the interval divided by this (then doubled per probe up to the interval).</summary>
    public const int FirstFraction = 8;

    private readonly TimeSpan _interval;
    private readonly TimeSpan _first;
    private readonly Random _random;

    public ProbeSchedule(TimeSpan interval, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(random);
        _interval = interval;
        _first = interval / FirstFraction > TimeSpan.Zero ? interval / FirstFraction : interval;
        _random = random;
    }

    /// <summary>Probes since the server was marked down (or last answered).</summary>
    public int Probes { get; private set; }

    /// <summary>Returns how long to wait before the next probe, and counts it.</summary>
    public TimeSpan NextDelay()
    {
        var ceiling = JitteredBackoff.Ceiling(_first, _interval, Probes);
        if (Probes < int.MaxValue)
        {
            Probes++;
        }

        return Delay(ceiling, _random.NextDouble());
    }

    /// <summary>The server answered: the next outage starts with quick probes again.</summary>
    public void Reset() => Probes = 0;

    /// <summary>The delay for <paramref name="ceiling"/> and a sample in [0, 1): from half the ceiling up to it.</summary>
    public static TimeSpan Delay(TimeSpan ceiling, double sample) =>
        TimeSpan.FromTicks((ceiling.Ticks / 2) + (long)(ceiling.Ticks / 2 * Math.Clamp(sample, 0.0, 1.0)));
}
