namespace Clickstream.Pipeline.Processing;

/// <summary>
/// Travels behind the events tracked before a <see cref="ClickstreamPipeline.FlushAsync"/> call: the processor
/// seals the delivery epoch where the marker passes, so the flush waits for exactly the events before it.
/// </summary>
internal sealed class FlushMarker
{
    private readonly TaskCompletionSource<Task> _sealed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the sealed epoch's completion once the processor has seen the marker.</summary>
    public Task<Task> Sealed => _sealed.Task;

    public void SetSealed(Task epochCompletion) => _sealed.TrySetResult(epochCompletion);
}
