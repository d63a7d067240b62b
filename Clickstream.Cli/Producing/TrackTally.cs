using Clickstream.Pipeline;
using Google.Protobuf;

namespace Clickstream.Cli.Producing;

/// <summary>
/// The outcomes of the TrackAsync calls that producer tasks make, counted by the producers themselves so that a report
/// can check the pipeline's own counters. A failed call is counted and its first error kept, not rethrown: one failed
/// event must not hide what the others did.
/// </summary>
internal sealed class TrackTally
{
    private long _completed;
    private long _failed;
    private Exception? _firstError;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public Exception? FirstError => Volatile.Read(ref _firstError);

    /// <summary>Tracks one event and counts the outcome; cancellation propagates.</summary>
    public async Task TrackAsync(ClickstreamPipeline pipeline, IMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.TrackAsync(message, cancellationToken);
            Interlocked.Increment(ref _completed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.Increment(ref _failed);
            Interlocked.CompareExchange(ref _firstError, ex, null);
        }
    }
}
