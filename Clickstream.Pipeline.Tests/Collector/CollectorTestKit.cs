using System.Buffers;
using System.Net.WebSockets;
using Clickstream.Raccoon;
using Clickstream.Samples;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>Requests, posts and answers shared by the collector tests.</summary>
internal static class CollectorTestKit
{
    public const string Proto = "application/proto";
    public const string Json = "application/json";
    public const string UserIdHeader = "X-User-ID";
    public const string UserGroupHeader = "X-User-Group";

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

    /// <summary>Opens a WebSocket with the identity headers given (none when null).</summary>
    public static async Task<ClientWebSocket> ConnectAsync(
        Uri endpoint, string? userId, string? userGroup = null, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        try
        {
            if (userId is not null)
            {
                socket.Options.SetRequestHeader(UserIdHeader, userId);
            }

            if (userGroup is not null)
            {
                socket.Options.SetRequestHeader(UserGroupHeader, userGroup);
            }

            configure?.Invoke(socket.Options);
            await socket.ConnectAsync(endpoint, Guard());
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> as one binary protobuf message, or a text JSON one.</summary>
    public static Task SendAsync(WebSocket socket, SendEventRequest request, bool json = false) =>
        SendRawAsync(socket, json ? ToJson(request) : request.ToByteArray(), json ? WebSocketMessageType.Text : WebSocketMessageType.Binary);

    public static Task SendRawAsync(WebSocket socket, byte[] message, WebSocketMessageType type) =>
        socket.SendAsync(message, type, endOfMessage: true, Guard());

    /// <summary>Reads one whole message (a close too, with an empty payload).</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocket socket)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ValueWebSocketReceiveResult frame;
        do
        {
            frame = await socket.ReceiveAsync(buffer.GetMemory(4096), Guard());
            buffer.Advance(frame.Count);
        }
        while (!frame.EndOfMessage);

        return (frame.MessageType, buffer.WrittenSpan.ToArray());
    }

    /// <summary>Reads one answer, decoded by its message type: binary protobuf or text JSON.</summary>
    public static async Task<(WebSocketMessageType Type, SendEventResponse Answer)> ReceiveAnswerAsync(WebSocket socket)
    {
        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(socket);
        return type switch
        {
            WebSocketMessageType.Binary => (type, SendEventResponse.Parser.ParseFrom(payload)),
            WebSocketMessageType.Text => (type, RaccoonJson.ReadResponse(payload)),
            _ => throw new AssertionException($"Expected an answer, got a {type} message (close status {socket.CloseStatus})."),
        };
    }

    /// <summary>A gRPC channel to <paramref name="address"/>, over <paramref name="handler"/> when given (e.g. to trust a test certificate).</summary>
    public static GrpcChannel Channel(Uri address, HttpMessageHandler? handler = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });

    /// <summary>gRPC metadata with the identity (and authorization) given; null values are left out.</summary>
    public static Metadata Identity(string? userId, string? userGroup = null, string? authorization = null)
    {
        var metadata = new Metadata();
        if (userId is not null)
        {
            metadata.Add(UserIdHeader, userId);
        }

        if (userGroup is not null)
        {
            metadata.Add(UserGroupHeader, userGroup);
        }

        if (authorization is not null)
        {
            metadata.Add("Authorization", authorization);
        }

        return metadata;
    }
}
