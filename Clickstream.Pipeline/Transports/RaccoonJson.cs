using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Clickstream.Pipeline.Raccoon;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// The JSON that Raccoon's REST endpoint speaks for <c>Content-Type: application/json</c>.
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
internal static class RaccoonJson
{
    /// <summary>The content type Raccoon maps to this codec (compared exactly, parameters are not allowed).</summary>
    public const string ContentType = "application/json";

    // Go's encoding/json nests up to 10,000 levels; unknown values are skipped, so allow the same.
    private const int GoMaxDepth = 10_000;

    // Long enough for every key this codec knows, even fully \u-escaped (6 bytes per character).
    private const int MaxKnownKeyBytes = 128;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = GoMaxDepth,
    };

    private static readonly JsonEncodedText ReqGuidKey = JsonEncodedText.Encode("req_guid");
    private static readonly JsonEncodedText SentTimeKey = JsonEncodedText.Encode("sent_time");
    private static readonly JsonEncodedText EventsKey = JsonEncodedText.Encode("events");
    private static readonly JsonEncodedText EventBytesKey = JsonEncodedText.Encode("event_bytes");
    private static readonly JsonEncodedText TypeKey = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText EventNameKey = JsonEncodedText.Encode("event_name");
    private static readonly JsonEncodedText ProductKey = JsonEncodedText.Encode("product");
    private static readonly JsonEncodedText EventTimestampKey = JsonEncodedText.Encode("event_timestamp");
    private static readonly JsonEncodedText IsExclusiveKey = JsonEncodedText.Encode("is_exclusive");
    private static readonly JsonEncodedText AppVersionKey = JsonEncodedText.Encode("app_version");
    private static readonly JsonEncodedText PlatformKey = JsonEncodedText.Encode("platform");
    private static readonly JsonEncodedText SecondsKey = JsonEncodedText.Encode("seconds");
    private static readonly JsonEncodedText NanosKey = JsonEncodedText.Encode("nanos");
    private static readonly JsonEncodedText StatusKey = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText CodeKey = JsonEncodedText.Encode("code");
    private static readonly JsonEncodedText ReasonKey = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText DataKey = JsonEncodedText.Encode("data");

    /// <summary>Writes <paramref name="request"/> as Raccoon JSON to <paramref name="output"/>.</summary>
    /// <param name="request">The request to write.</param>
    /// <param name="output">Where the UTF-8 JSON goes.</param>
    public static void WriteRequest(SendEventRequest request, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);

        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        if (request.ReqGuid.Length != 0)
        {
            writer.WriteString(ReqGuidKey, request.ReqGuid);
        }

        // Go's omitempty drops a nil pointer but keeps a pointer to an empty struct: {"sent_time":{}}.
        if (request.SentTime is { } sentTime)
        {
            WriteTimestamp(writer, SentTimeKey, sentTime);
        }

        if (request.Events.Count != 0)
        {
            writer.WriteStartArray(EventsKey);
            foreach (Event e in request.Events)
            {
                WriteEvent(writer, e);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Writes <paramref name="response"/> as Raccoon JSON to <paramref name="output"/>.</summary>
    /// <param name="response">The response to write.</param>
    /// <param name="output">Where the UTF-8 JSON goes.</param>
    public static void WriteResponse(SendEventResponse response, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(output);

        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        if (response.Status != Status.Unspecified)
        {
            writer.WriteNumber(StatusKey, (int)response.Status);
        }

        if (response.Code != Code.Unspecified)
        {
            writer.WriteNumber(CodeKey, (int)response.Code);
        }

        if (response.SentTime != 0)
        {
            writer.WriteNumber(SentTimeKey, response.SentTime);
        }

        if (response.Reason.Length != 0)
        {
            writer.WriteString(ReasonKey, response.Reason);
        }

        if (response.Data.Count != 0)
        {
            writer.WriteStartObject(DataKey);
            WriteSortedMap(writer, response.Data);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Reads a Raccoon JSON request.</summary>
    /// <param name="json">The whole UTF-8 body.</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON request.</exception>
    public static SendEventRequest ReadRequest(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        return ReadRequest(ref reader);
    }

    /// <summary>Reads a Raccoon JSON request.</summary>
    /// <param name="json">The whole UTF-8 body, possibly in several segments.</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON request.</exception>
    public static SendEventRequest ReadRequest(in ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        return ReadRequest(ref reader);
    }

    /// <summary>Reads a Raccoon JSON response.</summary>
    /// <param name="json">The whole UTF-8 body.</param>
    /// <returns>The response.</returns>
    /// <exception cref="FormatException">The body is not a Raccoon JSON response.</exception>
    public static SendEventResponse ReadResponse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            var response = new SendEventResponse();
            if (ReadTopLevel(ref reader))
            {
                ReadResponseFields(ref reader, response);
            }

            EnsureEnd(ref reader);
            return response;
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw Malformed("response", ref reader, e);
        }
    }

    private static SendEventRequest ReadRequest(ref Utf8JsonReader reader)
    {
        try
        {
            var request = new SendEventRequest();
            if (ReadTopLevel(ref reader))
            {
                ReadRequestFields(ref reader, request);
            }

            EnsureEnd(ref reader);
            return request;
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw Malformed("request", ref reader, e);
        }
    }

    private static void WriteEvent(Utf8JsonWriter writer, Event e)
    {
        writer.WriteStartObject();
        if (!e.EventBytes.IsEmpty)
        {
            writer.WriteBase64String(EventBytesKey, e.EventBytes.Span);
        }

        if (e.Type.Length != 0)
        {
            writer.WriteString(TypeKey, e.Type);
        }

        // The goto fork's optional fields, with the same omitempty rule; a raystack server ignores them.
        if (e.EventName.Length != 0)
        {
            writer.WriteString(EventNameKey, e.EventName);
        }

        if (e.Product.Length != 0)
        {
            writer.WriteString(ProductKey, e.Product);
        }

        if (e.EventTimestamp is { } eventTimestamp)
        {
            WriteTimestamp(writer, EventTimestampKey, eventTimestamp);
        }

        if (e.IsExclusive)
        {
            writer.WriteBoolean(IsExclusiveKey, true);
        }

        if (e.AppVersion.Length != 0)
        {
            writer.WriteString(AppVersionKey, e.AppVersion);
        }

        if (e.Platform != Platform.Unspecified)
        {
            writer.WriteNumber(PlatformKey, (int)e.Platform);
        }

        writer.WriteEndObject();
    }

    private static void WriteTimestamp(Utf8JsonWriter writer, JsonEncodedText key, Timestamp timestamp)
    {
        writer.WriteStartObject(key);
        if (timestamp.Seconds != 0)
        {
            writer.WriteNumber(SecondsKey, timestamp.Seconds);
        }

        if (timestamp.Nanos != 0)
        {
            writer.WriteNumber(NanosKey, timestamp.Nanos);
        }

        writer.WriteEndObject();
    }

    private static void WriteSortedMap(Utf8JsonWriter writer, IDictionary<string, string> map)
    {
        // Go's json.Marshal writes map keys sorted; the common case is the single "req_guid" entry.
        if (map.Count == 1)
        {
            foreach (KeyValuePair<string, string> entry in map)
            {
                writer.WriteString(entry.Key, entry.Value);
            }

            return;
        }

        var keys = new string[map.Count];
        map.Keys.CopyTo(keys, 0);
        Array.Sort(keys, StringComparer.Ordinal);
        foreach (string key in keys)
        {
            writer.WriteString(key, map[key]);
        }
    }

    /// <summary>Reads the first token: true for an object to read, false for <c>null</c> (an empty message).</summary>
    private static bool ReadTopLevel(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("The body is empty.");
        }

        return reader.TokenType switch
        {
            JsonTokenType.StartObject => true,
            JsonTokenType.Null => false,
            _ => throw new JsonException($"Expected a JSON object but found {Describe(reader.TokenType)}."),
        };
    }

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        // Utf8JsonReader throws here on anything but whitespace after the top-level value, as Go does.
        if (reader.Read())
        {
            throw new JsonException("Unexpected content after the top-level value.");
        }
    }

    private static void ReadRequestFields(ref Utf8JsonReader reader, SendEventRequest request)
    {
        while (NextProperty(ref reader))
        {
            Key key = ReadKey(ref reader);
            Read(ref reader);
            if (key == Key.ReqGuid)
            {
                request.ReqGuid = ReadString(ref reader, "req_guid", request.ReqGuid);
            }
            else if (key == Key.SentTime)
            {
                request.SentTime = ReadTimestamp(ref reader, "sent_time", request.SentTime);
            }
            else if (key == Key.Events)
            {
                ReadEvents(ref reader, request.Events);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadEvents(ref Utf8JsonReader reader, RepeatedField<Event> events)
    {
        // Go: null sets the slice to nil, an array replaces the slice's contents.
        events.Clear();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartArray, "events");
        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return;
            }

            // Go would append a nil *Event here and Raccoon would then dereference it; refuse it instead.
            if (reader.TokenType == JsonTokenType.Null)
            {
                throw new JsonException($"events[{events.Count}] is null.");
            }

            Expect(ref reader, JsonTokenType.StartObject, "events[]");
            var e = new Event();
            ReadEventFields(ref reader, e);
            events.Add(e);
        }
    }

    private static void ReadEventFields(ref Utf8JsonReader reader, Event e)
    {
        while (NextProperty(ref reader))
        {
            Key key = ReadKey(ref reader);
            Read(ref reader);
            if (key == Key.EventBytes)
            {
                e.EventBytes = ReadBytes(ref reader, "event_bytes");
            }
            else if (key == Key.Type)
            {
                e.Type = ReadString(ref reader, "type", e.Type);
            }
            else if (key == Key.EventName)
            {
                e.EventName = ReadString(ref reader, "event_name", e.EventName);
            }
            else if (key == Key.Product)
            {
                e.Product = ReadString(ref reader, "product", e.Product);
            }
            else if (key == Key.EventTimestamp)
            {
                e.EventTimestamp = ReadTimestamp(ref reader, "event_timestamp", e.EventTimestamp);
            }
            else if (key == Key.IsExclusive)
            {
                e.IsExclusive = ReadBoolean(ref reader, "is_exclusive", e.IsExclusive);
            }
            else if (key == Key.AppVersion)
            {
                e.AppVersion = ReadString(ref reader, "app_version", e.AppVersion);
            }
            else if (key == Key.Platform)
            {
                e.Platform = (Platform)ReadInt32(ref reader, "platform", (int)e.Platform);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadResponseFields(ref Utf8JsonReader reader, SendEventResponse response)
    {
        while (NextProperty(ref reader))
        {
            Key key = ReadKey(ref reader);
            Read(ref reader);
            if (key == Key.Status)
            {
                response.Status = (Status)ReadInt32(ref reader, "status", (int)response.Status);
            }
            else if (key == Key.Code)
            {
                response.Code = (Code)ReadInt32(ref reader, "code", (int)response.Code);
            }
            else if (key == Key.SentTime)
            {
                response.SentTime = ReadInt64(ref reader, "sent_time", response.SentTime);
            }
            else if (key == Key.Reason)
            {
                response.Reason = ReadString(ref reader, "reason", response.Reason);
            }
            else if (key == Key.Data)
            {
                ReadStringMap(ref reader, "data", response.Data);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadStringMap(ref Utf8JsonReader reader, string field, IDictionary<string, string> map)
    {
        // Go: null sets the map to nil; an object adds to (and overwrites entries of) the existing map.
        if (reader.TokenType == JsonTokenType.Null)
        {
            map.Clear();
            return;
        }

        Expect(ref reader, JsonTokenType.StartObject, field);
        while (NextProperty(ref reader))
        {
            string key = reader.GetString()!;
            Read(ref reader);
            map[key] = ReadString(ref reader, field, string.Empty);
        }
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        Read(ref reader);
        Debug.Assert(reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.EndObject, "The reader validates the structure.");
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    /// <summary>Identifies the current property name; Go matches keys case-insensitively.</summary>
    private static Key ReadKey(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return Match(reader.ValueSpan);
        }

        long rawLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (rawLength > MaxKnownKeyBytes)
        {
            return Key.Unknown;
        }

        Span<byte> scratch = stackalloc byte[MaxKnownKeyBytes];
        int written = reader.CopyString(scratch);
        return Match(scratch[..written]);
    }

    private static Key Match(ReadOnlySpan<byte> name)
    {
        if (Ascii.EqualsIgnoreCase(name, "req_guid"u8))
        {
            return Key.ReqGuid;
        }

        if (Ascii.EqualsIgnoreCase(name, "sent_time"u8))
        {
            return Key.SentTime;
        }

        if (Ascii.EqualsIgnoreCase(name, "events"u8))
        {
            return Key.Events;
        }

        if (Ascii.EqualsIgnoreCase(name, "event_bytes"u8))
        {
            return Key.EventBytes;
        }

        if (Ascii.EqualsIgnoreCase(name, "type"u8))
        {
            return Key.Type;
        }

        if (Ascii.EqualsIgnoreCase(name, "event_name"u8))
        {
            return Key.EventName;
        }

        if (Ascii.EqualsIgnoreCase(name, "product"u8))
        {
            return Key.Product;
        }

        if (Ascii.EqualsIgnoreCase(name, "event_timestamp"u8))
        {
            return Key.EventTimestamp;
        }

        if (Ascii.EqualsIgnoreCase(name, "is_exclusive"u8))
        {
            return Key.IsExclusive;
        }

        if (Ascii.EqualsIgnoreCase(name, "app_version"u8))
        {
            return Key.AppVersion;
        }

        if (Ascii.EqualsIgnoreCase(name, "platform"u8))
        {
            return Key.Platform;
        }

        if (Ascii.EqualsIgnoreCase(name, "seconds"u8))
        {
            return Key.Seconds;
        }

        if (Ascii.EqualsIgnoreCase(name, "nanos"u8))
        {
            return Key.Nanos;
        }

        if (Ascii.EqualsIgnoreCase(name, "status"u8))
        {
            return Key.Status;
        }

        if (Ascii.EqualsIgnoreCase(name, "code"u8))
        {
            return Key.Code;
        }

        if (Ascii.EqualsIgnoreCase(name, "reason"u8))
        {
            return Key.Reason;
        }

        if (Ascii.EqualsIgnoreCase(name, "data"u8))
        {
            return Key.Data;
        }

        return Key.Unknown;
    }

    private static void Read(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of JSON.");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType expected, string field)
    {
        if (reader.TokenType != expected)
        {
            throw WrongType(field, Describe(expected), reader.TokenType);
        }
    }

    private static string ReadString(ref Utf8JsonReader reader, string field, string current) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString()!,
        JsonTokenType.Null => current,
        _ => throw WrongType(field, "a string", reader.TokenType),
    };

    private static bool ReadBoolean(ref Utf8JsonReader reader, string field, bool current) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => current,
        _ => throw WrongType(field, "true or false", reader.TokenType),
    };

    private static long ReadInt64(ref Utf8JsonReader reader, string field, long current)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return current;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long value))
        {
            return value;
        }

        throw WrongType(field, "an integer in the int64 range", reader.TokenType);
    }

    private static int ReadInt32(ref Utf8JsonReader reader, string field, int current)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return current;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int value))
        {
            return value;
        }

        throw WrongType(field, "an integer in the int32 range", reader.TokenType);
    }

    private static ByteString ReadBytes(ref Utf8JsonReader reader, string field)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                // Go: null sets a []byte to nil.
                return ByteString.Empty;
            case JsonTokenType.String:
                if (!reader.TryGetBytesFromBase64(out byte[]? bytes))
                {
                    throw new JsonException($"'{field}' is not standard base64 with padding.");
                }

                // The array is new and ours alone, so wrapping it instead of copying it is safe.
                return UnsafeByteOperations.UnsafeWrap(bytes);
            default:
                throw WrongType(field, "a base64 string", reader.TokenType);
        }
    }

    private static Timestamp? ReadTimestamp(ref Utf8JsonReader reader, string field, Timestamp? current)
    {
        // Go: null sets the pointer to nil; an object decodes into the existing struct (a repeated key merges).
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject, field);
        Timestamp timestamp = current ?? new Timestamp();
        while (NextProperty(ref reader))
        {
            Key key = ReadKey(ref reader);
            Read(ref reader);
            if (key == Key.Seconds)
            {
                timestamp.Seconds = ReadInt64(ref reader, field + ".seconds", timestamp.Seconds);
            }
            else if (key == Key.Nanos)
            {
                timestamp.Nanos = ReadInt32(ref reader, field + ".nanos", timestamp.Nanos);
            }
            else
            {
                reader.Skip();
            }
        }

        return timestamp;
    }

    private static JsonException WrongType(string field, string expected, JsonTokenType found) =>
        new($"'{field}' must be {expected} but is {Describe(found)}.");

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    // JsonException: syntax and shape; InvalidOperationException: invalid UTF-8 in a string;
    // FormatException: bad base64 from the reader.
    private static bool IsMalformed(Exception e) => e is JsonException or InvalidOperationException or FormatException;

    private static FormatException Malformed(string what, ref Utf8JsonReader reader, Exception inner) =>
        new($"Invalid Raccoon JSON {what} near byte {reader.BytesConsumed}: {inner.Message}", inner);

    /// <summary>The keys this codec knows, across all messages; each reader handles its own and skips the rest.</summary>
    private enum Key
    {
        Unknown,
        ReqGuid,
        SentTime,
        Events,
        EventBytes,
        Type,
        EventName,
        Product,
        EventTimestamp,
        IsExclusive,
        AppVersion,
        Platform,
        Seconds,
        Nanos,
        Status,
        Code,
        Reason,
        Data,
    }
}
