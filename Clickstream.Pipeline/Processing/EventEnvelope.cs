using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;

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
/// <remarks>
/// <para>
/// QoS1 envelopes are new objects holding an exact-size array (the store keeps that array in its document and
/// reads exact arrays back). QoS0 envelopes come from <see cref="EnvelopePool"/> and keep their payload buffer
/// when they go back: the message is written into it on the caller's thread (<see cref="RentInstant"/>), so a
/// QoS0 event costs no allocation once the pool is warm.
/// </para>
/// <para>
/// Ownership of a pooled (QoS0) envelope and its buffer: the caller's <c>TrackAsync</c> owns it until it is
/// posted to the processor; then the pipeline's stages pass it along (processor, scheduler, one batch of the
/// egress); only the egress returns it, once, after the batch's outcome has been applied (ack, or drop on a
/// failure, both after the delivery epochs are completed). Transports read the payload only inside
/// <c>SendAsync</c> and never keep it (request buffers are copies). QoS0 events are never retried, split or
/// stored, so no second batch can hold a returned envelope; the store looks at a batch's <see cref="Durable"/>
/// events only, and a pooled envelope is never durable. An envelope that is not returned (shutdown, a stage
/// failure) is simply collected.
/// </para>
/// </remarks>
internal sealed class EventEnvelope : IValueTaskSource
{
    // Small events round up so that a buffer fits the next event of a slightly different size.
    private const int MinPooledBuffer = 256;

    private ManualResetValueTaskSourceCore<bool> _commit = new() { RunContinuationsAsynchronously = true };
    private byte[] _buffer;
    private int _length;

    /// <summary>An event tracked by the app; <paramref name="bytes"/> is exactly the payload.</summary>
    public EventEnvelope(EventTypeInfo typeInfo, byte[] bytes, CancellationToken cancellationToken)
    {
        TypeInfo = typeInfo;
        _buffer = bytes;
        _length = bytes.Length;
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
        _buffer = [];
        Marker = marker;
    }

    /// <summary>An empty envelope for <see cref="EnvelopePool"/>.</summary>
    internal static EventEnvelope CreatePooled() => new();

    private EventEnvelope()
    {
        TypeInfo = null!;
        _buffer = [];
        IsPooled = true;
    }

    public EventTypeInfo TypeInfo { get; private set; }

    /// <summary>The app's serialized protobuf event, sent as <c>event_bytes</c>. Valid until a pooled envelope is returned.</summary>
    public ReadOnlyMemory<byte> Payload => new(_buffer, 0, _length);

    /// <summary>
    /// The payload as an exact-size array, as the store writes it. For a QoS1 envelope (and any envelope not from the
    /// pool) this is the array itself; for a pooled one it is a copy, which the pipeline never asks for.
    /// </summary>
    public byte[] Bytes => _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();

    /// <summary>QoS1 when true. Never true for a pooled envelope.</summary>
    public bool Durable { get; }

    /// <summary>Bytes this event adds to a <c>SendEventRequest</c> (the repeated-field entry).</summary>
    public int WireSize { get; private set; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Non-null for a flush marker, which carries no event.</summary>
    public FlushMarker? Marker { get; }

    /// <summary>A QoS0 event: no caller awaits it.</summary>
    public bool IsInstant => !Durable && Marker is null;

    /// <summary>From <see cref="EnvelopePool"/>: a QoS0 event, returned by the egress after its outcome.</summary>
    public bool IsPooled { get; }

    /// <summary>True while a pooled envelope is out of the pool; guards against a double return.</summary>
    internal bool IsRented { get; set; }

    /// <summary>Monotonically increasing sequence number; the store's key for QoS1 events.</summary>
    public long Id { get; set; }

    /// <summary>Time-ordered unique id (UUIDv7).</summary>
    public Guid EventGuid { get; set; }

    /// <summary>UTC ticks when the processor stamped the event.</summary>
    public long TimestampTicks { get; set; }

    /// <summary>The epoch that counts this event until it is delivered or definitively failed.</summary>
    public DeliveryEpoch? Epoch { get; set; }

    public EventRoute Route { get; set; }

    /// <summary>
    /// The dead letter this QoS1 event is requeued from (its key), 0 for a tracked event: the group commit that stores
    /// the event deletes the dead letter in the same transaction, so that it is pending or dead-lettered, never both.
    /// </summary>
    public long DeadLetterId { get; init; }

    /// <summary>
    /// A pooled envelope for a QoS0 event of <paramref name="size"/> bytes, with the message written into its own
    /// buffer on the caller's thread (so the app may change the message as soon as TrackAsync returns).
    /// </summary>
    public static EventEnvelope RentInstant(EventTypeInfo typeInfo, IMessage message, int size)
    {
        Debug.Assert(!typeInfo.Durable, "Only QoS0 envelopes are pooled.");
        var envelope = EnvelopePool.Rent();
        if (envelope._buffer.Length < size)
        {
            envelope._buffer = GC.AllocateUninitializedArray<byte>(Math.Max(size, MinPooledBuffer));
        }

        message.WriteTo(envelope._buffer.AsSpan(0, size));
        envelope._length = size;
        envelope.TypeInfo = typeInfo;
        envelope.WireSize = RaccoonWire.EventEntrySize(size, typeInfo.TypeUtf8.Length);
        return envelope;
    }

    /// <summary>Forgets the event before the envelope goes back to the pool; a buffer too large to keep is dropped.</summary>
    internal void ClearForPool()
    {
        TypeInfo = null!;
        _length = 0;
        if (_buffer.Length > EnvelopePool.MaxKeptBufferBytes)
        {
            _buffer = [];
        }

        WireSize = 0;
        Id = 0;
        EventGuid = Guid.Empty;
        TimestampTicks = 0;
        Epoch = null;
        Route = EventRoute.None;
    }

    /// <summary>The <paramref name="count"/> envelopes of <paramref name="source"/> that <paramref name="keep"/> keeps (known to be that many), in order.</summary>
    public static EventEnvelope[] Where(EventEnvelope[] source, int count, Func<EventEnvelope, bool> keep)
    {
        var kept = new EventEnvelope[count];
        var j = 0;
        foreach (var envelope in source)
        {
            if (keep(envelope))
            {
                kept[j++] = envelope;
            }
        }

        return kept;
    }

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
