using System.Globalization;

namespace Clickstream.Collector.Faults;

/// <summary>
/// Draws a fault for each request from shares that add up to at most 1: one <see cref="Random.NextDouble"/> per
/// request, and the first fault whose running total of rates exceeds the draw; none when the draw is past the total.
/// Seeded, the sequence of draws is the same on every run. Thread-safe; no I/O.
/// </summary>
internal sealed class RandomFaults
{
    // Rates read from text (0.1 + 0.2 + 0.7) may add up to a hair over 1.
    private const double Tolerance = 1e-9;

    private readonly FaultRate[] _rates;
    private readonly Lock _lock = new();
    private readonly Random _random;

    private RandomFaults(FaultRate[] rates, int? seed)
    {
        _rates = rates;
        _random = seed is { } value ? new Random(value) : new Random();
    }

    /// <summary>Validates <paramref name="rates"/>; null when no rate is above zero (nothing to draw).</summary>
    /// <exception cref="ArgumentException">A fault is null, a rate is not within 0 to 1, or they add up to more than 1.</exception>
    public static RandomFaults? Create(IReadOnlyList<FaultRate> rates, int? seed)
    {
        ArgumentNullException.ThrowIfNull(rates);
        var kept = new List<FaultRate>(rates.Count);
        double total = 0;
        foreach (FaultRate rate in rates)
        {
            if (rate.Fault is null)
            {
                throw new ArgumentException("Every FaultRate needs a fault.", nameof(rates));
            }

            if (!(rate.Rate is >= 0 and <= 1))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"A fault's rate must be from 0 to 1 (was {rate.Rate} for {rate.Fault.Kind})."),
                    nameof(rates));
            }

            total += rate.Rate;
            if (rate.Rate > 0)
            {
                kept.Add(rate);
            }
        }

        if (total > 1 + Tolerance)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The faults' rates must add up to at most 1 (they add up to {total})."),
                nameof(rates));
        }

        return kept.Count == 0 ? null : new RandomFaults([.. kept], seed);
    }

    /// <summary>The fault of the next request, or null for none.</summary>
    public Fault? Draw()
    {
        double draw;
        lock (_lock)
        {
            draw = _random.NextDouble();
        }

        double total = 0;
        foreach (FaultRate rate in _rates)
        {
            total += rate.Rate;
            if (draw < total)
            {
                return rate.Fault;
            }
        }

        return null;
    }
}
