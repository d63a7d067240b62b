using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
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
/// of range or quoted). The server's side, and both sides for every message, are in <c>Clickstream.Raccoon</c>; the
/// tests hold the two to the same bytes.
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

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = ResponseJsonContext.Default.Options.MaxDepth,
    };

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
    public static SendEventResponse ReadResponse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        ResponseJson? read;
        try
        {
            read = JsonSerializer.Deserialize(ref reader, ResponseJsonContext.Default.ResponseJson);
            if (reader.Read())
            {
                throw new JsonException("Unexpected content after the top-level value.");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // JsonException: syntax and shape; InvalidOperationException: invalid UTF-8 in a string.
            throw new FormatException($"Invalid Raccoon JSON response near byte {reader.BytesConsumed}: {e.Message}", e);
        }

        var response = new SendEventResponse();
        if (read is null)
        {
            return response;
        }

        response.Status = (Status)read.Status.GetValueOrDefault();
        response.Code = (Code)read.Code.GetValueOrDefault();
        response.SentTime = read.SentTime.GetValueOrDefault();
        response.Reason = read.Reason ?? string.Empty;
        if (read.Data is { } data)
        {
            foreach (var entry in data)
            {
                // Go decodes null into a map's string value as "".
                response.Data[entry.Key] = entry.Value ?? string.Empty;
            }
        }

        return response;
    }
}

/// <summary>
/// A <c>SendEventResponse</c> as Go's <c>encoding/json</c> reads it: a field whose value is <c>null</c> keeps what it
/// had (the setters drop null), and a repeated <c>data</c> object adds to the map (Populate).
/// </summary>
internal sealed class ResponseJson
{
    [JsonPropertyName("status")]
    public int? Status { get; set => field = value ?? field; }

    [JsonPropertyName("code")]
    public int? Code { get; set => field = value ?? field; }

    [JsonPropertyName("sent_time")]
    public long? SentTime { get; set => field = value ?? field; }

    [JsonPropertyName("reason")]
    public string? Reason { get; set => field = value ?? field; }

    [JsonPropertyName("data")]
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public Dictionary<string, string?>? Data { get; set; }
}

// Unknown keys are skipped, keys match case-insensitively and numbers must be JSON numbers, as in Go; Go nests up to
// 10,000 levels, and unknown values are skipped, so the same is allowed.
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, NumberHandling = JsonNumberHandling.Strict, MaxDepth = 10_000)]
[JsonSerializable(typeof(ResponseJson))]
internal sealed partial class ResponseJsonContext : JsonSerializerContext;
