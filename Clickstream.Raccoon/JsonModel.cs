using System.Text.Json.Serialization;

namespace Clickstream.Raccoon;

// The shape of Raccoon's JSON, for System.Text.Json's source generator. Raccoon (Go) reads and writes it with
// encoding/json on the protoc-gen-go structs: snake_case keys from the struct tags, omitempty on every field, enums
// as numbers, bytes as standard base64. Go leaves a field as it was when its value is null; the setters that drop
// null do the same, so that a repeated key followed by null keeps the earlier value. Go decodes a repeated object
// into the same struct or map; Populate does the same.

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

/// <summary>A <c>SendEventResponse</c>.</summary>
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

    /// <summary>Go's json.Marshal writes map keys sorted, hence a sorted dictionary (built with an ordinal comparer when written).</summary>
    [JsonPropertyName("data")]
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public SortedDictionary<string, string?>? Data { get; set; }
}

// Omitting defaults is Go's omitempty (the mapping writes an empty string as null). Unknown keys are skipped, keys
// match case-insensitively and numbers must be JSON numbers, as in Go; Go nests up to 10,000 levels.
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    PropertyNameCaseInsensitive = true,
    NumberHandling = JsonNumberHandling.Strict,
    MaxDepth = 10_000)]
[JsonSerializable(typeof(RequestJson))]
[JsonSerializable(typeof(ResponseJson))]
internal sealed partial class RaccoonJsonContext : JsonSerializerContext;
