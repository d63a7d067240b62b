using System.Buffers;
using System.Text;

namespace Clickstream.Benchmarks.Stub;

/// <summary>
/// Reads just enough protobuf to count: the events of a Raccoon <c>SendEventRequest</c> (and its req_guid), the log
/// records of an OTLP <c>ExportLogsServiceRequest</c>. No message objects, so the stub stays cheap next to the
/// clients it measures.
/// </summary>
internal static class ProtoCounter
{
    private const int LengthDelimited = 2;

    /// <summary>SendEventRequest: req_guid = 1 (string), events = 3 (repeated Event). False when the body is not protobuf.</summary>
    public static bool TryCountRaccoon(ReadOnlySequence<byte> body, out string requestGuid, out int events)
    {
        requestGuid = string.Empty;
        events = 0;
        var reader = new SequenceReader<byte>(body);
        while (!reader.End)
        {
            if (!TryReadTag(ref reader, out var field, out var wireType))
            {
                return false;
            }

            if (field == 1 && wireType == LengthDelimited)
            {
                if (!TryReadLength(ref reader, out var length) || reader.Remaining < length)
                {
                    return false;
                }

                requestGuid = Encoding.UTF8.GetString(reader.UnreadSequence.Slice(0, length));
                reader.Advance(length);
                continue;
            }

            if (field == 3 && wireType == LengthDelimited)
            {
                events++;
            }

            if (!TrySkip(ref reader, wireType))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>ExportLogsServiceRequest: resource_logs = 1 / ResourceLogs.scope_logs = 2 / ScopeLogs.log_records = 2.</summary>
    public static bool TryCountLogRecords(ReadOnlySequence<byte> body, out int records)
    {
        records = 0;
        return TryCountNested(body, [1, 2, 2], 0, ref records);
    }

    // Counts the occurrences of path[^1] inside path[0..^1], descending into each length-delimited field on the path.
    private static bool TryCountNested(ReadOnlySequence<byte> message, int[] path, int depth, ref int count)
    {
        var reader = new SequenceReader<byte>(message);
        while (!reader.End)
        {
            if (!TryReadTag(ref reader, out var field, out var wireType))
            {
                return false;
            }

            if (field != path[depth] || wireType != LengthDelimited)
            {
                if (!TrySkip(ref reader, wireType))
                {
                    return false;
                }

                continue;
            }

            if (!TryReadLength(ref reader, out var length) || reader.Remaining < length)
            {
                return false;
            }

            if (depth == path.Length - 1)
            {
                count++;
            }
            else if (!TryCountNested(reader.UnreadSequence.Slice(0, length), path, depth + 1, ref count))
            {
                return false;
            }

            reader.Advance(length);
        }

        return true;
    }

    private static bool TryReadTag(ref SequenceReader<byte> reader, out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (!TryReadVarint(ref reader, out var tag) || tag == 0)
        {
            return false;
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return true;
    }

    private static bool TryReadLength(ref SequenceReader<byte> reader, out long length)
    {
        if (!TryReadVarint(ref reader, out var value) || value > int.MaxValue)
        {
            length = 0;
            return false;
        }

        length = (long)value;
        return true;
    }

    private static bool TrySkip(ref SequenceReader<byte> reader, int wireType)
    {
        switch (wireType)
        {
            case 0:
                return TryReadVarint(ref reader, out _);
            case 1:
                return reader.TryAdvance(8);
            case LengthDelimited:
                return TryReadLength(ref reader, out var length) && reader.TryAdvance(length);
            case 5:
                return reader.TryAdvance(4);
            default:
                return false;
        }
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryAdvance(this ref SequenceReader<byte> reader, long count)
    {
        if (reader.Remaining < count)
        {
            return false;
        }

        reader.Advance(count);
        return true;
    }
}
