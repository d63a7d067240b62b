using System.Threading.Tasks.Sources;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Processing;

/// <summary>Where the processor sends an envelope.</summary>
internal enum EventRoute : byte
{
    /// <summary>Not routed yet.</summary>
    None,

    /// <summary>QoS1: commit to the store first.</summary>
    Store,

    /// <summary>QoS0: straight to the scheduler.</summary>
    Scheduler,

    /// <summary>Cancelled before it was stored or sent: nowhere.</summary>
    Discard,
}

/// <summary>
/// One event on its way through the pipeline: the serialized bytes taken when it was tracked, the stamps
/// the processor gives it, and, for QoS1, the completion the caller of TrackAsync awaits. The envelope is
/// its own <see cref="IValueTaskSource"/>, so awaiting a commit allocates nothing beyond the envelope.
/// </summary>
internal sealed class EventEnvelope : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _commit = new() { RunContinuationsAsynchronously = true };

    /// <summary>An event tracked by the app.</summary>
    public EventEnvelope(EventTypeInfo typeInfo, byte[] bytes, CancellationToken cancellationToken)
    {
        TypeInfo = typeInfo;
        Bytes = bytes;
        Durable = typeInfo.Durable;
        CancellationToken = cancellationToken;
        WireSize = RaccoonWire.EventEntrySize(bytes.Length, typeInfo.TypeUtf8.Length);
    }

    /// <summary>An event read back from the store.</summary>
    public EventEnvelope(EventTypeInfo typeInfo, byte[] bytes, long id, Guid eventGuid, long timestampTicks)
        : this(typeInfo, bytes, CancellationToken.None)
    {
        Durable = true;
        Id = id;
        EventGuid = eventGuid;
        TimestampTicks = timestampTicks;
        Route = EventRoute.Store;
    }

    /// <summary>A flush marker: seals the current delivery epoch where it passes the processor.</summary>
    public EventEnvelope(FlushMarker marker)
    {
        TypeInfo = null!;
        Bytes = [];
        Marker = marker;
    }

    public EventTypeInfo TypeInfo { get; }

    /// <summary>The app's serialized protobuf event, sent as <c>event_bytes</c>.</summary>
    public byte[] Bytes { get; }

    /// <summary>QoS1 when true.</summary>
    public bool Durable { get; }

    /// <summary>Bytes this event adds to a <c>SendEventRequest</c> (the repeated-field entry).</summary>
    public int WireSize { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Non-null for a flush marker, which carries no event.</summary>
    public FlushMarker? Marker { get; }

    /// <summary>Monotonically increasing sequence number; the store's key for QoS1 events.</summary>
    public long Id { get; set; }

    /// <summary>Time-ordered unique id (UUIDv7).</summary>
    public Guid EventGuid { get; set; }

    /// <summary>UTC ticks when the processor stamped the event.</summary>
    public long TimestampTicks { get; set; }

    /// <summary>The epoch that counts this event until it is delivered or definitively failed.</summary>
    public DeliveryEpoch? Epoch { get; set; }

    public EventRoute Route { get; set; }

    /// <summary>The token for the caller's await of a QoS1 commit.</summary>
    public short Version => _commit.Version;

    /// <summary>Completes the caller's TrackAsync: the event is committed.</summary>
    public void SetCommitted() => _commit.SetResult(true);

    /// <summary>Fails the caller's TrackAsync.</summary>
    public void SetFailed(Exception exception) => _commit.SetException(exception);

    void IValueTaskSource.GetResult(short token) => _commit.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _commit.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _commit.OnCompleted(continuation, state, token, flags);
}
