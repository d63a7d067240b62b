using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

// One file for both sides of Raccoon's JSON response: the library (the client reads it) and Clickstream.Raccoon (the
// collector writes it, tests read it) compile it, internal in each. Each compiles it into the namespace of its own copy
// of the generated contract, so SendEventResponse here is that assembly's; the library defines RACCOON_CLIENT.
#if RACCOON_CLIENT
namespace Clickstream.Pipeline.Raccoon;
#else
namespace Clickstream.Raccoon;
#endif

/// <summary>
/// A <c>SendEventResponse</c> as Raccoon (Go) writes and reads it with <c>encoding/json</c> on the protoc-gen-go
/// struct: snake_case keys, <c>omitempty</c> on every field (a null here is not written), enums as numbers,
/// <c>sent_time</c> as Unix seconds.
/// </summary>
/// <remarks>
/// Go leaves a field as it was when its value is <c>null</c>; the setters that drop null do the same, so that a
/// repeated key followed by null keeps the earlier value. A repeated <c>data</c> object adds to the map (Populate), and
/// <c>"data":null</c> clears it, as Go sets a map to nil.
/// </remarks>
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

    /// <summary>
    /// Read into a <see cref="Dictionary{TKey, TValue}"/> (ordinal keys, as a Go map); a writer sets a dictionary sorted
    /// by ordinal keys, as Go's <c>json.Marshal</c> writes a map.
    /// </summary>
    [JsonPropertyName("data")]
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public IDictionary<string, string?>? Data { get; set; }

    /// <summary>Reads a Raccoon JSON response.</summary>
    /// <param name="json">The whole UTF-8 body.</param>
    /// <returns>The response.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON response.</exception>
    public static SendEventResponse Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, GoJsonReader.Options);
        ResponseJson? read = GoJsonReader.ReadOne(ref reader, RaccoonJsonContext.Default.ResponseJson, "response");
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
            foreach (KeyValuePair<string, string?> entry in data)
            {
                // Go decodes null into a map's string value as "".
                response.Data[entry.Key] = entry.Value ?? string.Empty;
            }
        }

        return response;
    }
}

/// <summary>Reads one JSON value as strictly as Go's <c>json.Unmarshal</c>.</summary>
internal static class GoJsonReader
{
    /// <summary>No comments, no trailing commas, Go's nesting limit.</summary>
    public static readonly JsonReaderOptions Options = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = RaccoonJsonContext.Default.Options.MaxDepth,
    };

    /// <summary>Reads one top-level value (null for <c>null</c>) and nothing after it, as Go does.</summary>
    /// <exception cref="FormatException">The input is not one <typeparamref name="T"/> in Go's JSON.</exception>
    public static T? ReadOne<T>(ref Utf8JsonReader reader, JsonTypeInfo<T> typeInfo, string what)
        where T : class
    {
        try
        {
            T? value = JsonSerializer.Deserialize(ref reader, typeInfo);
            if (reader.Read())
            {
                throw new JsonException("Unexpected content after the top-level value.");
            }

            return value;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // JsonException: syntax and shape; InvalidOperationException: invalid UTF-8; FormatException: base64.
            throw new FormatException($"Invalid Raccoon JSON {what} near byte {reader.BytesConsumed}: {e.Message}", e);
        }
    }
}

// Omitting nulls is Go's omitempty (a writer maps an empty value to null). Unknown keys are skipped, keys match
// case-insensitively and numbers must be JSON numbers, as in Go; Go nests up to 10,000 levels, and unknown values are
// skipped, so the same is allowed. The request's model is the server's alone (the client writes requests by hand);
// the source generator takes one declaration of a context, so the server's is named here.
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    PropertyNameCaseInsensitive = true,
    NumberHandling = JsonNumberHandling.Strict,
    MaxDepth = 10_000)]
[JsonSerializable(typeof(ResponseJson))]
#if !RACCOON_CLIENT
[JsonSerializable(typeof(RequestJson))]
#endif
internal sealed partial class RaccoonJsonContext : JsonSerializerContext;
