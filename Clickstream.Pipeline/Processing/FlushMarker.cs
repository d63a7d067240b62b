namespace Clickstream.Pipeline.Processing;

/// <summary>
/// Travels behind the events tracked before a <see cref="ClickstreamPipeline.FlushAsync"/> call: the processor
/// seals the delivery epoch where the marker passes, so the flush waits for exactly the events before it.
/// </summary>
internal sealed class FlushMarker
{
    private readonly TaskCompletionSource<Task> _sealed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _ended;

    /// <summary>Completes with the sealed epoch's completion once the processor has seen the marker.</summary>
    public Task<Task> Sealed => _sealed.Task;

    public void SetSealed(Task epochCompletion) => _sealed.TrySetResult(epochCompletion);

    /// <summary>
    /// Whether the flush is over (delivered, cancelled, or the pipeline disposed). Until then the scheduler, once the
    /// marker has reached it, cuts what comes from the store or a retry at once rather than waiting for the timer.
    /// </summary>
    public bool Ended => Volatile.Read(ref _ended);

    public void End() => Volatile.Write(ref _ended, true);
}
