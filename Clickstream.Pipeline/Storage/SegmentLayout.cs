using System.Buffers.Binary;
using System.Numerics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// How QoS1 events lie in the store file (format version <see cref="FormatVersion"/>, LiteDB's <c>UserVersion</c>):
/// several events per document, one segment per group commit. Pure encoding, no IO.
/// </summary>
/// <remarks>
/// A segment is two documents keyed by its first event id (events are packed in id order):
/// <list type="bullet">
/// <item><c>payloads</c>: <c>y</c> the distinct event types, <c>e</c> the packed events, each
/// <see cref="EntryHeaderBytes"/> (id Int64, UUIDv7 16 bytes, UTC ticks Int64, type index UInt16, length Int32,
/// little-endian) then its bytes. Written once, deleted with the segment.</item>
/// <item><c>segments</c>, the head: <c>n</c> events, <c>l</c> the last id, <c>s</c> the bytes counted for the
/// events not done yet, <c>d</c> (when some are) a bitmap of the events done: acknowledged, evicted or
/// dead-lettered. Small, so a partial ack rewrites a few bytes, not the events.</item>
/// </list>
/// When every event of a segment is done both documents are deleted in the transaction that did it.
/// </remarks>
internal static class SegmentLayout
{
    /// <summary>The layout written by this version. Version 0 (or none) is the layout of one document per event, migrated at open.</summary>
    public const int FormatVersion = 2;

    /// <summary>Bytes before each event's own bytes in a payload.</summary>
    public const int EntryHeaderBytes = 8 + 16 + 8 + 2 + 4;

    /// <summary>Events in one segment at most: a larger group commit writes several.</summary>
    public const int MaxEvents = 1024;

    /// <summary>
    /// Packed bytes in one segment at most (an event alone may pass it): bounds what one backlog read holds, and
    /// the space a partly acknowledged segment keeps on disk.
    /// </summary>
    public const int MaxBytes = 256 * 1024;

    public const string Count = "n";
    public const string LastId = "l";
    public const string CountedBytes = "s";
    public const string Done = "d";
    public const string Types = "y";
    public const string Entries = "e";

    /// <summary>The head of a segment.</summary>
    public static BsonDocument Head(long firstId, int count, long lastId, long countedBytes, byte[]? done)
    {
        var head = new BsonDocument
        {
            ["_id"] = firstId,
            [Count] = count,
            [LastId] = lastId,
            [CountedBytes] = countedBytes,
        };
        if (done is not null)
        {
            head[Done] = done;
        }

        return head;
    }

    /// <summary>How many events a head marks done.</summary>
    public static int DoneCount(BsonDocument head)
    {
        var done = head[Done];
        if (!done.IsBinary)
        {
            return 0;
        }

        var count = 0;
        foreach (var b in done.AsBinary)
        {
            count += BitOperations.PopCount(b);
        }

        return count;
    }

    /// <summary>Whether the head marks the event at <paramref name="index"/> done.</summary>
    public static bool IsDone(byte[]? done, int index) => done is not null && (done[index >> 3] & (1 << (index & 7))) != 0;

    /// <summary>Reads the events of a payload into <paramref name="into"/> (cleared first), in id order.</summary>
    /// <exception cref="InvalidDataException">
    /// The payload is not a well-formed segment: a field of the wrong type, a length or type index out of range,
    /// ids not increasing, no event. Every read is checked first, so a corrupt payload never reads out of its
    /// bytes nor makes an allocation bigger than they are.
    /// </exception>
    public static void Decode(BsonDocument payload, List<SegmentEntry> into)
    {
        into.Clear();
        var id = payload["_id"];
        var typeField = payload[Types];
        var entriesField = payload[Entries];
        if (!id.IsInt64 || !typeField.IsArray || !entriesField.IsBinary)
        {
            throw Corrupt(id, "its first id, types or events are missing or of the wrong type");
        }

        var typeValues = typeField.AsArray;
        var data = entriesField.AsBinary;
        var offset = 0;
        var previousId = long.MinValue;
        while (offset < data.Length)
        {
            if (data.Length - offset < EntryHeaderBytes)
            {
                throw Corrupt(id, $"an event header at byte {offset} runs past the end ({data.Length} bytes)");
            }

            var span = data.AsSpan(offset);
            var eventId = BinaryPrimitives.ReadInt64LittleEndian(span);
            var typeIndex = BinaryPrimitives.ReadUInt16LittleEndian(span[32..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(span[34..]);
            if (length < 0 || length > data.Length - offset - EntryHeaderBytes)
            {
                throw Corrupt(id, $"the event at byte {offset} claims {length} bytes, {data.Length - offset - EntryHeaderBytes} are left");
            }

            if (typeIndex >= typeValues.Count || !typeValues[typeIndex].IsString)
            {
                throw Corrupt(id, $"the event at byte {offset} has type index {typeIndex} of {typeValues.Count} types");
            }

            if (eventId <= previousId || (into.Count == 0 && eventId != id.AsInt64))
            {
                throw Corrupt(id, $"the event at byte {offset} has id {eventId}, out of order");
            }

            into.Add(new SegmentEntry(
                eventId,
                new Guid(span.Slice(8, 16)),
                BinaryPrimitives.ReadInt64LittleEndian(span[24..]),
                typeValues[typeIndex].AsString,
                data,
                offset + EntryHeaderBytes,
                length));
            previousId = eventId;
            offset += EntryHeaderBytes + length;
        }

        if (into.Count == 0)
        {
            throw Corrupt(id, "it holds no event");
        }
    }

    /// <summary>
    /// Checks a segment's head against its decoded payload: the same number of events, and a bitmap of the events
    /// done long enough for them. Returns the bitmap, or null when no event is done.
    /// </summary>
    /// <exception cref="InvalidDataException">The head does not fit the payload.</exception>
    public static byte[]? CheckHead(BsonDocument head, int count)
    {
        var n = head[Count];
        var done = head[Done];
        if (!n.IsInt32 || n.AsInt32 != count || !head[CountedBytes].IsInt64)
        {
            throw Corrupt(head["_id"], $"its head counts {n} events, its payload {count}");
        }

        if (done.IsNull)
        {
            return null;
        }

        if (!done.IsBinary || done.AsBinary.Length < (count + 7) / 8)
        {
            throw Corrupt(head["_id"], "its bitmap of events done is too short for its events");
        }

        return done.AsBinary;
    }

    private static InvalidDataException Corrupt(BsonValue id, string detail) => new($"The store's segment {id} is corrupt: {detail}.");
}

/// <summary>One event read from a payload: its stamps, type and where its bytes are.</summary>
internal readonly record struct SegmentEntry(long Id, Guid EventGuid, long TimestampTicks, string Type, byte[] Data, int Offset, int Length)
{
    /// <summary>A copy of the event's bytes.</summary>
    public byte[] CopyBytes() => Data.AsSpan(Offset, Length).ToArray();

    /// <summary>The bytes the event is counted for.</summary>
    public long Size => StorePolicy.SizeOf(Length, Type.Length);
}

/// <summary>Packs events into a segment, in id order; reused by the writer thread for every group commit.</summary>
internal sealed class SegmentBuilder
{
    private readonly List<string> _types = [];
    private byte[] _buffer = new byte[64 * 1024];
    private int _length;
    private long _firstId;
    private long _lastId;
    private long _countedBytes;

    public int Count { get; private set; }

    /// <summary>Whether an event of <paramref name="bytes"/> must start the next segment.</summary>
    public bool IsFull(int bytes) =>
        Count > 0 && (Count >= SegmentLayout.MaxEvents || _length + SegmentLayout.EntryHeaderBytes + bytes > SegmentLayout.MaxBytes);

    public void Add(long id, Guid eventGuid, long timestampTicks, string type, ReadOnlySpan<byte> bytes, long countedSize)
    {
        var needed = _length + SegmentLayout.EntryHeaderBytes + bytes.Length;
        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }

        var typeIndex = _types.Count;
        for (var i = 0; i < _types.Count; i++)
        {
            if (ReferenceEquals(_types[i], type) || _types[i] == type)
            {
                typeIndex = i;
                break;
            }
        }

        if (typeIndex == _types.Count)
        {
            _types.Add(type);
        }

        var span = _buffer.AsSpan(_length);
        BinaryPrimitives.WriteInt64LittleEndian(span, id);
        eventGuid.TryWriteBytes(span.Slice(8, 16));
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], timestampTicks);
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], checked((ushort)typeIndex));
        BinaryPrimitives.WriteInt32LittleEndian(span[34..], bytes.Length);
        bytes.CopyTo(span[SegmentLayout.EntryHeaderBytes..]);
        _length = needed;
        if (Count == 0)
        {
            _firstId = id;
        }

        _lastId = id;
        _countedBytes += countedSize;
        Count++;
    }

    /// <summary>The segment's payload and head, and the builder empty again.</summary>
    public (BsonDocument Payload, BsonDocument Head) Build()
    {
        var types = new BsonArray();
        foreach (var type in _types)
        {
            types.Add(type);
        }

        var payload = new BsonDocument
        {
            ["_id"] = _firstId,
            [SegmentLayout.Types] = types,
            [SegmentLayout.Entries] = _buffer.AsSpan(0, _length).ToArray(),
        };
        var head = SegmentLayout.Head(_firstId, Count, _lastId, _countedBytes, done: null);
        Reset();
        return (payload, head);
    }

    public void Reset()
    {
        _types.Clear();
        _length = 0;
        _countedBytes = 0;
        Count = 0;
    }
}
