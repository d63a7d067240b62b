using System.Buffers;
using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// One encoded <c>SendEventRequest</c> in a pooled buffer, protobuf (straight from the envelopes, see
/// <see cref="RaccoonWire"/>) or Raccoon JSON. Dispose returns the buffer.
/// </summary>
internal struct RaccoonRequest : IDisposable
{
    private byte[]? _buffer;

    private RaccoonRequest(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public readonly byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(RaccoonRequest));

    public readonly ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

    public static RaccoonRequest Encode(bool json, Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events) =>
        json ? EncodeJson(requestGuid, sentTime, events) : EncodeProto(requestGuid, sentTime, events);

    public static RaccoonRequest EncodeProto(Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events)
    {
        var size = RaccoonWire.RequestSize(events, sentTime);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var written = RaccoonWire.WriteRequest(buffer, requestGuid, sentTime, events);
        return new RaccoonRequest(buffer, written);
    }

    /// <summary>JSON is the slow path (base64 text); protobuf is the default everywhere.</summary>
    public static RaccoonRequest EncodeJson(Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events)
    {
        var writer = new ArrayBufferWriter<byte>(RaccoonWire.RequestSize(events, sentTime) * 4 / 3 + 256);
        RaccoonJson.WriteRequest(writer, requestGuid, sentTime, events);
        var buffer = ArrayPool<byte>.Shared.Rent(writer.WrittenCount);
        writer.WrittenSpan.CopyTo(buffer);
        return new RaccoonRequest(buffer, writer.WrittenCount);
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
