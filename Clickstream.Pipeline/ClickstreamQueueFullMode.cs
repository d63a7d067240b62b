namespace Clickstream.Pipeline;

/// <summary>
/// What <see cref="ClickstreamPipeline.TrackAsync"/> does with a QoS0 event when <see cref="ClickstreamOptions.MaxQueuedEvents"/>
/// QoS0 events are in memory already (waiting for a batch, held while the network is unreachable, or in flight). QoS1
/// events are bounded by the store instead.
/// </summary>
public enum ClickstreamQueueFullMode
{
    /// <summary>The event being tracked is dropped and counted (<see cref="ClickstreamStatistics.EventsDroppedOverflow"/>); <c>TrackAsync</c> never waits.</summary>
    DropNewest,

    /// <summary>
    /// The event is accepted and the oldest QoS0 events not sent yet are dropped and counted instead, so that the
    /// newest are kept (what an app offline for a while usually wants). Events already in a request are not dropped:
    /// until those are done, the bound can be passed by them.
    /// </summary>
    DropOldest,

    /// <summary>
    /// <c>TrackAsync</c> waits for room (back-pressure on the caller), until its cancellation token is cancelled; nothing
    /// is dropped. While the network is unreachable the wait lasts until it is back.
    /// </summary>
    Wait,
}
