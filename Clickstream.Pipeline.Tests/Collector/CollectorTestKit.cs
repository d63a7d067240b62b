using System.Buffers;
using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>Requests, posts and answers shared by the collector tests.</summary>
internal static class CollectorTestKit
{
    public const string Proto = "application/proto";
    public const string Json = "application/json";

    /// <summary>A fixed clock for the answers' sent_time.</summary>
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_790_000_000);

    /// <summary>A guard against a hung test, not a timing assertion: the fixtures' [CancelAfter] token.</summary>
    public static CancellationToken Guard() => TestContext.CurrentContext.CancellationToken;

    public static SendEventRequest Batch(string requestGuid, int pageViews, int clicks = 0)
    {
        var request = new SendEventRequest
        {
            ReqGuid = requestGuid,
            SentTime = new Timestamp { Seconds = 1_790_000_000, Nanos = 123_456_789 },
        };
        for (int i = 0; i < pageViews; i++)
        {
            request.Events.Add(new Event { EventBytes = SampleEvents.PageView(i).ToByteString(), Type = "pageview" });
        }

        for (int i = 0; i < clicks; i++)
        {
            request.Events.Add(new Event { EventBytes = SampleEvents.Click(i).ToByteString(), Type = "click" });
        }

        return request;
    }

    public static byte[] ToJson(SendEventRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RaccoonJson.WriteRequest(request, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>POSTs <paramref name="body"/> with exactly <paramref name="contentType"/> (no charset added), or none.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, Uri endpoint, byte[] body, string? contentType)
    {
        using var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            // TryAddWithoutValidation keeps the value exactly as given, parameters included.
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return await client.PostAsync(endpoint, content, Guard());
    }

    public static Task<HttpResponseMessage> PostProtoAsync(HttpClient client, Uri endpoint, SendEventRequest request) =>
        PostAsync(client, endpoint, request.ToByteArray(), Proto);

    /// <summary>Reads an answer written in <paramref name="format"/> (<see cref="Proto"/> or <see cref="Json"/>).</summary>
    public static async Task<SendEventResponse> ReadAnswerAsync(HttpResponseMessage response, string format)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync(Guard());
        return format == Proto ? SendEventResponse.Parser.ParseFrom(body) : RaccoonJson.ReadResponse(body);
    }
}
