using System.Buffers;
using System.Text.Json;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Raccoon;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// The client's side of the JSON that Raccoon speaks for <c>Content-Type: application/json</c> and WebSocket text
/// frames: requests written straight from the envelopes, responses read.
/// </summary>
/// <remarks>
/// Raccoon (Go) uses <c>encoding/json</c> on the protoc-gen-go structs, so the shape is Go's: snake_case keys,
/// <c>omitempty</c> on every field, enums as numbers, <c>bytes</c> as standard base64 with padding, and a
/// <c>google.protobuf.Timestamp</c> as the plain struct <c>{"seconds":N,"nanos":N}</c>. The request is what Go's
/// <c>json.Marshal</c> writes for the same message; the response is read as leniently as Go's <c>json.Unmarshal</c>
/// reads it (unknown keys ignored, keys matched case-insensitively, <c>null</c> leaves the default, a top-level
/// <c>null</c> is an empty message) and as strictly (no comments, trailing commas or content, fractions, numbers out
/// of range or quoted). The response's model and reader are one file, <c>shared/RaccoonResponseJson.cs</c>, that
/// <c>Clickstream.Raccoon</c> compiles too; the server's side, and both sides for every message, are there, and the
/// tests hold the two request writers to the same bytes.
/// </remarks>
internal static class RaccoonJson
{
    /// <summary>The content type Raccoon maps to this codec (compared exactly, parameters are not allowed).</summary>
    public const string ContentType = "application/json";

    private static readonly JsonEncodedText ReqGuidKey = JsonEncodedText.Encode("req_guid");
    private static readonly JsonEncodedText SentTimeKey = JsonEncodedText.Encode("sent_time");
    private static readonly JsonEncodedText EventsKey = JsonEncodedText.Encode("events");
    private static readonly JsonEncodedText EventBytesKey = JsonEncodedText.Encode("event_bytes");
    private static readonly JsonEncodedText TypeKey = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText SecondsKey = JsonEncodedText.Encode("seconds");
    private static readonly JsonEncodedText NanosKey = JsonEncodedText.Encode("nanos");

    /// <summary>Writes the request for <paramref name="events"/> as Raccoon JSON to <paramref name="output"/>.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, Guid requestGuid, DateTimeOffset sentTime, ReadOnlySpan<EventEnvelope> events)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString(ReqGuidKey, requestGuid);
        var (seconds, nanos) = RaccoonWire.Split(sentTime);
        writer.WriteStartObject(SentTimeKey);
        if (seconds != 0)
        {
            writer.WriteNumber(SecondsKey, seconds);
        }

        if (nanos != 0)
        {
            writer.WriteNumber(NanosKey, nanos);
        }

        writer.WriteEndObject();
        if (events.Length != 0)
        {
            writer.WriteStartArray(EventsKey);
            foreach (var e in events)
            {
                writer.WriteStartObject();
                if (!e.Payload.IsEmpty)
                {
                    writer.WriteBase64String(EventBytesKey, e.Payload.Span);
                }

                if (e.TypeInfo.TypeUtf8.Length != 0)
                {
                    writer.WriteString(TypeKey, e.TypeInfo.TypeUtf8);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads a Raccoon JSON response.</summary>
    /// <param name="json">The whole UTF-8 body.</param>
    /// <returns>The response.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON response.</exception>
    public static SendEventResponse ReadResponse(ReadOnlySpan<byte> json) => ResponseJson.Read(json);
}
