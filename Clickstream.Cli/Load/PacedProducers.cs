using System.Diagnostics;
using Clickstream.Cli.Producing;
using Clickstream.Pipeline;
using Google.Protobuf;

namespace Clickstream.Cli.Load;

/// <summary>
/// Producers calling TrackAsync at a fixed rate overall: events are claimed in blocks of about 10 ms worth, and
/// block <c>b</c> is not started before <c>start + b x block / rate</c> on the <see cref="TimeProvider"/>, so a
/// slow moment is caught up with (the rate is kept on average) and no producer sleeps per event. Each block's
/// start time is kept for the latency estimate (<see cref="LatencyEstimate"/>).
/// </summary>
internal sealed class PacedProducers
{
    private readonly ClickstreamPipeline _pipeline;
    private readonly int _count;
    private readonly double _rate;
    private readonly Func<int, IMessage> _makeEvent;
    private readonly TimeProvider _time;
    private readonly long _start;
    private int _nextBlock = -1;
    private readonly TrackTally _tally = new();

    private PacedProducers(ClickstreamPipeline pipeline, int count, double rate, Func<int, IMessage> makeEvent, TimeProvider time)
    {
        _pipeline = pipeline;
        _count = count;
        _rate = rate;
        _makeEvent = makeEvent;
        _time = time;
        BlockSize = (int)Math.Clamp(rate / 100, 1, 1_000);
        BlockStarts = new long[(count + BlockSize - 1) / BlockSize];
        _start = time.GetTimestamp();
    }

    /// <summary>Events per block.</summary>
    public int BlockSize { get; }

    /// <summary>When each block's first TrackAsync was called (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long[] BlockStarts { get; }

    public long Completed => _tally.Completed;

    public long Failed => _tally.Failed;

    public Exception? FirstError => _tally.FirstError;

    /// <summary>Tracks <paramref name="count"/> events at <paramref name="rate"/> per second from <paramref name="producers"/> tasks.</summary>
    public static PacedProducers Start(
        ClickstreamPipeline pipeline, int count, double rate, int producers, Func<int, IMessage> makeEvent, TimeProvider time, CancellationToken cancellationToken, out Task running)
    {
        var group = new PacedProducers(pipeline, count, rate, makeEvent, time);
        var tasks = new Task[producers];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(() => group.ProduceAsync(cancellationToken), cancellationToken);
        }

        running = Task.WhenAll(tasks);
        return group;
    }

    private async Task ProduceAsync(CancellationToken cancellationToken)
    {
        int block;
        while ((block = Interlocked.Increment(ref _nextBlock)) < BlockStarts.Length)
        {
            var first = block * BlockSize;
            var due = TimeSpan.FromSeconds(first / _rate) - _time.GetElapsedTime(_start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, _time, cancellationToken);
            }
            else
            {
                // Behind schedule, or QoS0 whose TrackAsync completes at once: let the pipeline's stages run.
                await Task.Yield();
            }

            BlockStarts[block] = _time.GetTimestamp();
            var end = Math.Min(first + BlockSize, _count);
            for (var n = first; n < end; n++)
            {
                await _tally.TrackAsync(_pipeline, _makeEvent(n), cancellationToken);
            }
        }

        Debug.Assert(Volatile.Read(ref _nextBlock) >= BlockStarts.Length, "Every block was claimed.");
    }
}
