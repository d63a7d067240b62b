namespace Clickstream.Cli.Load;

/// <summary>
/// Latency from TrackAsync to acknowledged, estimated without a per-event callback: the pipeline's
/// <c>EventsAcknowledged</c> counter is sampled every few milliseconds, and the n-th event tracked is taken as
/// acknowledged when the counter first reaches n. Events go out in id order, so this is exact for one request in
/// flight and off by the requests in flight otherwise; its resolution is the sampling interval. One estimate per
/// block of events (<see cref="PacedProducers.BlockSize"/>), from the block's first TrackAsync call.
/// </summary>
internal sealed class LatencyEstimate
{
    private readonly List<(long Timestamp, long Acknowledged)> _samples = [];
    private readonly Lock _lock = new();

    /// <summary>Records the acknowledged count (counted from the run's start) at <paramref name="timestamp"/>.</summary>
    public void Add(long timestamp, long acknowledged)
    {
        lock (_lock)
        {
            if (_samples.Count == 0 || _samples[^1].Acknowledged != acknowledged)
            {
                _samples.Add((timestamp, acknowledged));
            }
        }
    }

    /// <summary>The latencies of the blocks that were acknowledged, sorted.</summary>
    public List<TimeSpan> Latencies(long[] blockStarts, int blockSize, long events, TimeProvider time)
    {
        var latencies = new List<TimeSpan>(blockStarts.Length);
        lock (_lock)
        {
            var sample = 0;
            for (var block = 0; block < blockStarts.Length; block++)
            {
                // The block is acknowledged when its last event is: block x size + size events in all.
                var needed = Math.Min((long)(block + 1) * blockSize, events);
                while (sample < _samples.Count && _samples[sample].Acknowledged < needed)
                {
                    sample++;
                }

                if (sample == _samples.Count)
                {
                    break;
                }

                latencies.Add(time.GetElapsedTime(blockStarts[block], Math.Max(blockStarts[block], _samples[sample].Timestamp)));
            }
        }

        latencies.Sort();
        return latencies;
    }

    /// <summary>
    /// How long after each of <paramref name="timestamps"/> (ascending) the acknowledged count first grew, sorted; a
    /// timestamp after which nothing more was acknowledged has none. The resolution is the sampling interval.
    /// </summary>
    public List<TimeSpan> FirstAcksAfter(long[] timestamps, TimeProvider time)
    {
        var delays = new List<TimeSpan>(timestamps.Length);
        lock (_lock)
        {
            var sample = 0;
            foreach (var timestamp in timestamps)
            {
                // Samples are kept only when the count changed: the first one after the timestamp is the first ack after it.
                while (sample < _samples.Count && _samples[sample].Timestamp <= timestamp)
                {
                    sample++;
                }

                if (sample == _samples.Count)
                {
                    break;
                }

                delays.Add(time.GetElapsedTime(timestamp, _samples[sample].Timestamp));
            }
        }

        delays.Sort();
        return delays;
    }

    /// <summary>The <paramref name="percentile"/> (0 to 100) of sorted <paramref name="latencies"/>, nearest rank.</summary>
    public static TimeSpan Percentile(List<TimeSpan> latencies, double percentile)
    {
        if (latencies.Count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * latencies.Count);
        return latencies[Math.Clamp(rank - 1, 0, latencies.Count - 1)];
    }
}
