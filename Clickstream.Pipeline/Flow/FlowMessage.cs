using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Flow;

/// <summary>What a <see cref="FlowMessage"/> carries, and so where it goes.</summary>
internal enum FlowMessageKind : byte
{
    /// <summary>QoS0 events from the processor, stamped, in order: to the scheduler.</summary>
    Instant,

    /// <summary>QoS1 events and flush markers from the processor, in order: to the store, to be committed.</summary>
    ToStore,

    /// <summary>QoS1 events the store committed (or read back from disk), to be batched: to the scheduler.</summary>
    Committed,

    /// <summary>A failed batch going back to the scheduler after its backoff: the one edge that flows backwards.</summary>
    Retry,

    /// <summary>
    /// A flush marker passed the store (its envelope is the one event carried): everything tracked before it is in the
    /// scheduler; cut now, and cut what the store and retries bring at once until the flush is over. Without a marker:
    /// only cut now.
    /// </summary>
    Flush,

    /// <summary>The scheduler's own timer: the delay of the open batch named by <see cref="FlowMessage.Generation"/> passed.</summary>
    Timer,

    /// <summary>The reachability signal changed (<see cref="FlowMessage.Open"/>): hold or release the batches.</summary>
    Gate,
}

/// <summary>
/// One message between the stages of <see cref="PipelineGraph"/>. Events travel in chunks, never one per message: a
/// block takes a lock per message, so the per-event cost of the graph is the per-chunk cost divided by the chunk.
/// </summary>
internal readonly record struct FlowMessage(FlowMessageKind Kind, EventEnvelope[] Events, long Generation = 0, bool Open = false)
{
    public static FlowMessage Instant(EventEnvelope[] events) => new(FlowMessageKind.Instant, events);

    public static FlowMessage ToStore(EventEnvelope[] events) => new(FlowMessageKind.ToStore, events);

    public static FlowMessage Committed(EventEnvelope[] events) => new(FlowMessageKind.Committed, events);

    public static FlowMessage Retry(EventEnvelope[] events) => new(FlowMessageKind.Retry, events);

    public static FlowMessage Flush(EventEnvelope? marker = null) => new(FlowMessageKind.Flush, marker is null ? [] : [marker]);

    public static FlowMessage Timer(long generation) => new(FlowMessageKind.Timer, [], generation);

    public static FlowMessage Gate(bool open) => new(FlowMessageKind.Gate, [], Open: open);
}
