using System.Diagnostics;
using Clickstream.Pipeline.Processing;
using Google.Protobuf;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Writes a Raccoon <c>SendEventRequest</c> straight from the pipeline's envelopes into one buffer, byte for
/// byte what Google.Protobuf writes for the same message (fields in number order, proto3 defaults left out),
/// without building a message object, a <see cref="ByteString"/> or a copy per event.
/// </summary>
internal static class RaccoonWire
{
    // Tags: (field number << 3) | wire type 2 (length-delimited) or 0 (varint).
    private const byte RequestGuidTag = (1 << 3) | 2;
    private const byte RequestSentTimeTag = (2 << 3) | 2;
    private const byte RequestEventTag = (3 << 3) | 2;
    private const byte EventBytesTag = (1 << 3) | 2;
    private const byte EventTypeTag = (2 << 3) | 2;
    private const byte TimestampSecondsTag = 1 << 3;
    private const byte TimestampNanosTag = 2 << 3;

    /// <summary>The text length of a <c>req_guid</c>: a GUID in its 36-character "D" form.</summary>
    public const int RequestGuidLength = 36;

    /// <summary>Bytes one event adds to a request: the repeated-field entry holding the <c>Event</c> message.</summary>
    public static int EventEntrySize(int bytesLength, int typeLength)
    {
        var size = EventSize(bytesLength, typeLength);
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }

    /// <summary>The size of a whole request.</summary>
    public static int RequestSize(ReadOnlySpan<EventEnvelope> events, DateTimeOffset sentTime)
    {
        var timestamp = TimestampSize(sentTime);
        var size = 1 + 1 + RequestGuidLength + 1 + CodedOutputStream.ComputeLengthSize(timestamp) + timestamp;
        foreach (var e in events)
        {
            size += e.WireSize;
        }

        return size;
    }

    /// <summary>Writes the request into <paramref name="destination"/>, which must hold <see cref="RequestSize"/> bytes; returns the bytes written.</summary>
    public static int WriteRequest(Span<byte> destination, Guid requestGuid, DateTimeOffset sentTime, ReadOnlySpan<EventEnvelope> events)
    {
        var pos = 0;
        destination[pos++] = RequestGuidTag;
        destination[pos++] = RequestGuidLength;
        var formatted = requestGuid.TryFormat(destination[pos..], out var written, "D");
        Debug.Assert(formatted && written == RequestGuidLength, "A GUID in D form is 36 ASCII bytes.");
        pos += RequestGuidLength;

        destination[pos++] = RequestSentTimeTag;
        pos += WriteVarint(destination[pos..], (ulong)TimestampSize(sentTime));
        pos += WriteTimestamp(destination[pos..], sentTime);

        foreach (var e in events)
        {
            destination[pos++] = RequestEventTag;
            var payload = e.Payload.Span;
            var eventSize = EventSize(payload.Length, e.TypeInfo.TypeUtf8.Length);
            pos += WriteVarint(destination[pos..], (ulong)eventSize);
            if (payload.Length > 0)
            {
                destination[pos++] = EventBytesTag;
                pos += WriteVarint(destination[pos..], (ulong)payload.Length);
                payload.CopyTo(destination[pos..]);
                pos += payload.Length;
            }

            var type = e.TypeInfo.TypeUtf8;
            if (type.Length > 0)
            {
                destination[pos++] = EventTypeTag;
                pos += WriteVarint(destination[pos..], (ulong)type.Length);
                type.CopyTo(destination[pos..]);
                pos += type.Length;
            }
        }

        return pos;
    }

    private static int EventSize(int bytesLength, int typeLength)
    {
        var size = 0;
        if (bytesLength > 0)
        {
            size += 1 + CodedOutputStream.ComputeLengthSize(bytesLength) + bytesLength;
        }

        if (typeLength > 0)
        {
            size += 1 + CodedOutputStream.ComputeLengthSize(typeLength) + typeLength;
        }

        return size;
    }

    /// <summary>The seconds and nanos since the Unix epoch, as a <c>google.protobuf.Timestamp</c> holds them.</summary>
    public static (long Seconds, int Nanos) Split(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder);
        return (seconds, (int)(remainder * 100));
    }

    private static int TimestampSize(DateTimeOffset time)
    {
        var (seconds, nanos) = Split(time);
        var size = 0;
        if (seconds != 0)
        {
            size += 1 + CodedOutputStream.ComputeInt64Size(seconds);
        }

        if (nanos != 0)
        {
            size += 1 + CodedOutputStream.ComputeInt32Size(nanos);
        }

        return size;
    }

    private static int WriteTimestamp(Span<byte> destination, DateTimeOffset time)
    {
        var (seconds, nanos) = Split(time);
        var pos = 0;
        if (seconds != 0)
        {
            destination[pos++] = TimestampSecondsTag;
            pos += WriteVarint(destination[pos..], (ulong)seconds);
        }

        if (nanos != 0)
        {
            destination[pos++] = TimestampNanosTag;
            pos += WriteVarint(destination[pos..], (ulong)nanos);
        }

        return pos;
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var pos = 0;
        while (value >= 0x80)
        {
            destination[pos++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[pos++] = (byte)value;
        return pos;
    }
}
