using System.Buffers.Binary;
using System.IO.Pipelines;
using Clickstream.Collector.Wire;
using Clickstream.Raccoon;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector.Grpc;

/// <summary>
/// Response messages that gRPC itself would never write: a truncated one and a malformed one. Written straight to the
/// HTTP/2 response (gRPC has set its headers, <c>content-type: application/grpc</c>, before the handler runs).
/// </summary>
internal static class GrpcFaultFrames
{
    // A length-prefixed message: the compressed flag (1 byte), the length (4 bytes, big-endian), the message.
    private const int PrefixLength = 5;

    /// <summary>
    /// A message frame that declares the whole of <paramref name="response"/> and carries half of it. The call then ends
    /// (trailers, status OK), so that the client sees the message end short rather than a reset that would discard it.
    /// </summary>
    public static Task WriteTruncatedAsync(HttpContext http, SendEventResponse response, CancellationToken cancellationToken)
    {
        byte[] message = response.ToByteArray();
        return WriteFrameAsync(http, message.Length, message.AsMemory(0, MalformedBody.TruncatedLength(message.Length)), cancellationToken);
    }

    /// <summary>A whole message frame whose bytes do not decode as a SendEventResponse.</summary>
    public static Task WriteMalformedAsync(HttpContext http, CancellationToken cancellationToken) =>
        WriteFrameAsync(http, MalformedBody.Bytes.Length, MalformedBody.Bytes, cancellationToken);

    private static async Task WriteFrameAsync(HttpContext http, int declaredLength, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        PipeWriter writer = http.Response.BodyWriter;
        Span<byte> prefix = writer.GetSpan(PrefixLength);
        prefix[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)declaredLength);
        writer.Advance(PrefixLength);

        // WriteAsync flushes: the client has the headers and these bytes before whatever comes next.
        await writer.WriteAsync(payload, cancellationToken);
    }
}
