using System.Globalization;

namespace Clickstream.Collector;

/// <summary>
/// Outages on a schedule, on the collector's <see cref="CollectorOptions.TimeProvider"/>: from the moment the schedule
/// is set, outage k (k = 1, 2, ...) starts at k x <see cref="Period"/> and lasts <see cref="Duration"/>. See
/// <see cref="CollectorFaults.GoDown"/> for what an outage does.
/// </summary>
public sealed record OutageSchedule
{
    /// <summary>Creates a schedule: down for <paramref name="duration"/> every <paramref name="period"/>.</summary>
    /// <param name="period">The time from one outage's start to the next one's; positive.</param>
    /// <param name="duration">How long each outage lasts; positive and shorter than <paramref name="period"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public OutageSchedule(TimeSpan period, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        if (duration >= period)
        {
            throw new ArgumentOutOfRangeException(
                nameof(duration),
                duration,
                string.Create(CultureInfo.InvariantCulture, $"An outage must be shorter than the period ({period}), or the collector never comes back."));
        }

        Period = period;
        Duration = duration;
    }

    /// <summary>The time from one outage's start to the next one's.</summary>
    public TimeSpan Period { get; }

    /// <summary>How long each outage lasts.</summary>
    public TimeSpan Duration { get; }
}
