using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Raccoon;

/// <summary>
/// The JSON that Raccoon's REST endpoint (<c>Content-Type: application/json</c>) and WebSocket text frames speak, for
/// every message, as the server (and a test standing in for either side) needs it.
/// </summary>
/// <remarks>
/// <para>
/// Raccoon (Go) reads and writes this body with <c>encoding/json</c> on the protoc-gen-go structs, not with
/// protojson, so the shape is Go's: snake_case keys from the struct tags, <c>omitempty</c> on every field,
/// enums as numbers, <c>bytes</c> as standard base64 with padding, and <c>google.protobuf.Timestamp</c> as
/// the plain struct <c>{"seconds":N,"nanos":N}</c> (not an RFC 3339 string). Example request and response:
/// </para>
/// <code>
/// {"req_guid":"a1","sent_time":{"seconds":1790000000,"nanos":5},"events":[{"event_bytes":"CgE=","type":"pageview"}]}
/// {"status":1,"code":1,"sent_time":1790000001,"data":{"req_guid":"a1"}}
/// </code>
/// <para>
/// The writer emits what Go's <c>json.Marshal</c> emits (same keys, order and omissions; string escaping may
/// differ, which is equivalent JSON). The reader is as lenient as Go's <c>json.Unmarshal</c>: unknown keys are
/// ignored, missing keys and <c>null</c> leave the default, keys match case-insensitively, a duplicated key
/// wins last, and a top-level <c>null</c> is an empty message. Like Go it rejects comments, trailing commas,
/// trailing content, numbers with a fraction or out of range, and a value of the wrong JSON type.
/// </para>
/// </remarks>
public static class RaccoonJson
{
    /// <summary>The content type Raccoon maps to this codec (compared exactly, parameters are not allowed).</summary>
    public const string ContentType = "application/json";

    /// <summary>Writes <paramref name="request"/> as Raccoon JSON to <paramref name="output"/>.</summary>
    /// <param name="request">The request to write.</param>
    /// <param name="output">Where the UTF-8 JSON goes.</param>
    public static void WriteRequest(SendEventRequest request, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        var json = new RequestJson
        {
            ReqGuid = NullIfEmpty(request.ReqGuid),
            SentTime = ToJson(request.SentTime),
            Events = request.Events.Count == 0 ? null : new List<EventJson?>(request.Events.Count),
        };
        foreach (Event e in request.Events)
        {
            json.Events!.Add(new EventJson
            {
                EventBytes = e.EventBytes.IsEmpty ? null : e.EventBytes.ToByteArray(),
                Type = NullIfEmpty(e.Type),
                EventName = NullIfEmpty(e.EventName),
                Product = NullIfEmpty(e.Product),
                EventTimestamp = ToJson(e.EventTimestamp),
                IsExclusive = e.IsExclusive ? true : null,
                AppVersion = NullIfEmpty(e.AppVersion),
                Platform = e.Platform == Platform.Unspecified ? null : (int)e.Platform,
            });
        }

        Write(json, RaccoonJsonContext.Default.RequestJson, output);
    }

    /// <summary>Writes <paramref name="response"/> as Raccoon JSON to <paramref name="output"/>.</summary>
    /// <param name="response">The response to write.</param>
    /// <param name="output">Where the UTF-8 JSON goes.</param>
    public static void WriteResponse(SendEventResponse response, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(response);
        // Go's json.Marshal writes map keys sorted.
        SortedDictionary<string, string?>? data = null;
        if (response.Data.Count != 0)
        {
            data = new SortedDictionary<string, string?>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> entry in response.Data)
            {
                data[entry.Key] = entry.Value;
            }
        }

        var json = new ResponseJson
        {
            Status = response.Status == Status.Unspecified ? null : (int)response.Status,
            Code = response.Code == Code.Unspecified ? null : (int)response.Code,
            SentTime = response.SentTime == 0 ? null : response.SentTime,
            Reason = NullIfEmpty(response.Reason),
            Data = data,
        };
        Write(json, RaccoonJsonContext.Default.ResponseJson, output);
    }

    /// <summary>Reads a Raccoon JSON request.</summary>
    /// <param name="json">The whole UTF-8 body.</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON request.</exception>
    public static SendEventRequest ReadRequest(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, GoJsonReader.Options);
        return ToMessage(GoJsonReader.ReadOne(ref reader, RaccoonJsonContext.Default.RequestJson, "request"));
    }

    /// <summary>Reads a Raccoon JSON request.</summary>
    /// <param name="json">The whole UTF-8 body, possibly in several segments.</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON request.</exception>
    public static SendEventRequest ReadRequest(in ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json, GoJsonReader.Options);
        return ToMessage(GoJsonReader.ReadOne(ref reader, RaccoonJsonContext.Default.RequestJson, "request"));
    }

    /// <summary>Reads a Raccoon JSON response.</summary>
    /// <param name="json">The whole UTF-8 body.</param>
    /// <returns>The response.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON response.</exception>
    public static SendEventResponse ReadResponse(ReadOnlySpan<byte> json) => ResponseJson.Read(json);

    private static void Write<T>(T value, JsonTypeInfo<T> typeInfo, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var writer = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(writer, value, typeInfo);
    }

    private static SendEventRequest ToMessage(RequestJson? json)
    {
        var request = new SendEventRequest();
        if (json is null)
        {
            return request;
        }

        request.ReqGuid = json.ReqGuid ?? string.Empty;
        request.SentTime = ToMessage(json.SentTime);
        if (json.Events is { } events)
        {
            AddEvents(events, request.Events);
        }

        return request;
    }

    private static void AddEvents(List<EventJson?> events, RepeatedField<Event> to)
    {
        for (int i = 0; i < events.Count; i++)
        {
            // Go would append a nil *Event here and Raccoon would then dereference it; refuse it instead.
            EventJson e = events[i] ?? throw new FormatException($"Invalid Raccoon JSON request: events[{i}] is null.");
            to.Add(new Event
            {
                // The array is new and ours alone, so wrapping it instead of copying it is safe.
                EventBytes = e.EventBytes is { } bytes ? UnsafeByteOperations.UnsafeWrap(bytes) : ByteString.Empty,
                Type = e.Type ?? string.Empty,
                EventName = e.EventName ?? string.Empty,
                Product = e.Product ?? string.Empty,
                EventTimestamp = ToMessage(e.EventTimestamp),
                IsExclusive = e.IsExclusive.GetValueOrDefault(),
                AppVersion = e.AppVersion ?? string.Empty,
                Platform = (Platform)e.Platform.GetValueOrDefault(),
            });
        }
    }

    private static Timestamp? ToMessage(TimestampJson? json) =>
        json is null ? null : new Timestamp { Seconds = json.Seconds.GetValueOrDefault(), Nanos = json.Nanos.GetValueOrDefault() };

    // Go's omitempty drops a nil pointer but keeps a pointer to an empty struct: {"sent_time":{}}.
    private static TimestampJson? ToJson(Timestamp? timestamp) =>
        timestamp is null ? null : new TimestampJson
        {
            Seconds = timestamp.Seconds == 0 ? null : timestamp.Seconds,
            Nanos = timestamp.Nanos == 0 ? null : timestamp.Nanos,
        };

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
