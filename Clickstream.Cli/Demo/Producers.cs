using Clickstream.Cli.Producing;
using Clickstream.Pipeline;
using Google.Protobuf;

namespace Clickstream.Cli.Demo;

/// <summary>
/// Several tasks calling TrackAsync concurrently until <c>count</c> events are tracked, as an app's request
/// threads would. They count the outcomes themselves, so the report can check the pipeline's own counters.
/// </summary>
internal sealed class Producers
{
    private const int YieldEvery = 64;

    private readonly ClickstreamPipeline _pipeline;
    private readonly int _count;
    private readonly Func<int, IMessage> _makeEvent;
    private int _next = -1;
    private readonly TrackTally _tally = new();

    private Producers(ClickstreamPipeline pipeline, int count, Func<int, IMessage> makeEvent)
    {
        _pipeline = pipeline;
        _count = count;
        _makeEvent = makeEvent;
    }

    public long Completed => _tally.Completed;

    public long Failed => _tally.Failed;

    public Exception? FirstError => _tally.FirstError;

    /// <summary>Tracks events 0 to <paramref name="count"/> - 1, made by <paramref name="makeEvent"/>, from <paramref name="producers"/> tasks.</summary>
    public static async Task<Producers> RunAsync(ClickstreamPipeline pipeline, int count, int producers, Func<int, IMessage> makeEvent, CancellationToken cancellationToken)
    {
        var group = new Producers(pipeline, count, makeEvent);
        var tasks = new Task[producers];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(() => group.ProduceAsync(cancellationToken), cancellationToken);
        }

        await Task.WhenAll(tasks);
        return group;
    }

    private async Task ProduceAsync(CancellationToken cancellationToken)
    {
        int n;
        while ((n = Interlocked.Increment(ref _next)) < _count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (n % YieldEvery == 0)
            {
                // A QoS0 TrackAsync completes synchronously, so without this a few producers would hold every
                // thread-pool thread and starve the pipeline's own stages, which run on the same pool.
                await Task.Yield();
            }

            await _tally.TrackAsync(_pipeline, _makeEvent(n), cancellationToken);
        }
    }
}
