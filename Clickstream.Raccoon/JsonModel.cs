using System.Text.Json.Serialization;

namespace Clickstream.Raccoon;

// The shape of Raccoon's JSON request, for System.Text.Json's source generator. Raccoon (Go) reads and writes it with
// encoding/json on the protoc-gen-go structs: snake_case keys from the struct tags, omitempty on every field, enums
// as numbers, bytes as standard base64. Go leaves a field as it was when its value is null; the setters that drop
// null do the same, so that a repeated key followed by null keeps the earlier value. Go decodes a repeated object
// into the same struct or map; Populate does the same. The response and the context are in
// wire/RaccoonResponseJson.cs, which the library compiles too.

/// <summary>A <c>SendEventRequest</c>.</summary>
internal sealed class RequestJson
{
    [JsonPropertyName("req_guid")]
    public string? ReqGuid { get; set => field = value ?? field; }

    [JsonPropertyName("sent_time")]
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public TimestampJson? SentTime { get; set; }

    [JsonPropertyName("events")]
    public List<EventJson?>? Events { get; set; }
}

/// <summary>An <c>Event</c>, with the goto fork's optional fields.</summary>
internal sealed class EventJson
{
    [JsonPropertyName("event_bytes")]
    public byte[]? EventBytes { get; set; }

    [JsonPropertyName("type")]
    public string? Type { get; set => field = value ?? field; }

    [JsonPropertyName("event_name")]
    public string? EventName { get; set => field = value ?? field; }

    [JsonPropertyName("product")]
    public string? Product { get; set => field = value ?? field; }

    [JsonPropertyName("event_timestamp")]
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public TimestampJson? EventTimestamp { get; set; }

    [JsonPropertyName("is_exclusive")]
    public bool? IsExclusive { get; set => field = value ?? field; }

    [JsonPropertyName("app_version")]
    public string? AppVersion { get; set => field = value ?? field; }

    [JsonPropertyName("platform")]
    public int? Platform { get; set => field = value ?? field; }
}

/// <summary>A <c>google.protobuf.Timestamp</c> as Go's plain struct, not protojson's RFC 3339 string.</summary>
internal sealed class TimestampJson
{
    [JsonPropertyName("seconds")]
    public long? Seconds { get; set => field = value ?? field; }

    [JsonPropertyName("nanos")]
    public int? Nanos { get; set => field = value ?? field; }
}
