using System.Diagnostics;

namespace Clickstream.Collector;

/// <summary>Requests and events per second since the previous sample, in all and per event type, from <see cref="CollectorStats"/>.</summary>
/// <param name="stats">The collector's statistics.</param>
/// <param name="time">The clock the rates are measured with.</param>
public sealed class CollectorRates(CollectorStats stats, TimeProvider time)
{
    private long _lastRequests = stats.Requests;
    private long _lastEvents = stats.Events;
    private IReadOnlyDictionary<string, long> _lastByType = stats.EventsByType();
    private long _lastTimestamp = time.GetTimestamp();

    /// <summary>One sample.</summary>
    /// <param name="RequestsPerSecond">Requests of any outcome per second.</param>
    /// <param name="EventsPerSecond">Accepted events per second.</param>
    /// <param name="EventsPerSecondByType">Accepted events per second, per type seen so far.</param>
    /// <param name="EventsByType">Accepted events in all, per type.</param>
    public sealed record Sample(double RequestsPerSecond, double EventsPerSecond, IReadOnlyDictionary<string, double> EventsPerSecondByType, IReadOnlyDictionary<string, long> EventsByType);

    /// <summary>The rates since the previous call (or since construction).</summary>
    public Sample Next()
    {
        long requests = stats.Requests;
        long events = stats.Events;
        IReadOnlyDictionary<string, long> byType = stats.EventsByType();
        long now = time.GetTimestamp();
        double seconds = Math.Max(time.GetElapsedTime(_lastTimestamp, now).TotalSeconds, 1e-3);
        var perType = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach ((string type, long count) in byType)
        {
            perType[type] = (count - _lastByType.GetValueOrDefault(type)) / seconds;
        }

        var sample = new Sample((requests - _lastRequests) / seconds, (events - _lastEvents) / seconds, perType, byType);
        (_lastRequests, _lastEvents, _lastByType, _lastTimestamp) = (requests, events, byType, now);
        Debug.Assert(seconds > 0, "The clock moves forward.");
        return sample;
    }
}
