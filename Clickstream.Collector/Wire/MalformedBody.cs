namespace Clickstream.Collector.Wire;

/// <summary>The bytes of <see cref="Fault.MalformedResponse"/> and the cut of <see cref="Fault.TruncatedResponse"/>.</summary>
internal static class MalformedBody
{
    /// <summary>
    /// Decodes in neither format: as protobuf the first byte is a tag with field number 0, which is invalid; as JSON a
    /// NUL cannot start a value. Valid UTF-8, so that it can travel in a WebSocket text frame (which must be UTF-8).
    /// </summary>
    public static ReadOnlyMemory<byte> Bytes { get; } = "\0not a SendEventResponse\0"u8.ToArray();

    /// <summary>How much of an answer of <paramref name="length"/> bytes a truncated answer carries: half, at least one byte short.</summary>
    public static int TruncatedLength(int length) => length / 2;
}
