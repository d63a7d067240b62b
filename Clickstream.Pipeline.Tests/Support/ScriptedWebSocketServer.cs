using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Clickstream.Collector.Hosting;
using Clickstream.Raccoon;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// A WebSocket server on 127.0.0.1 (ephemeral port) that answers only what the test tells it to: it records each
/// connection's upgrade headers and messages, and acks, refuses or drops on command. A test can so answer out of
/// order, late or never, which a real collector does not do on demand.
/// </summary>
internal sealed class ScriptedWebSocketServer : IAsyncDisposable
{
    public const string Path = "/api/v1/events";

    private readonly Channel<ServerConnection> _accepted = Channel.CreateUnbounded<ServerConnection>();
    private readonly ConcurrentQueue<ServerConnection> _all = new();
    private WebApplication _app = null!;
    private int _connections;
    private int _refuseWith; // 0: accept; otherwise the Code

    private ScriptedWebSocketServer()
    {
    }

    /// <summary>The ws:// URL of the endpoint.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Connections accepted so far (refused ones included).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>
    /// Refuse the next connections as Raccoon does: right after the upgrade, a protobuf STATUS_ERROR frame with this
    /// code and no req_guid, then close 1008. Null (the default) accepts them.
    /// </summary>
    public Code? RefuseWith
    {
        get => Volatile.Read(ref _refuseWith) is var code and not 0 ? (Code)code : null;
        set => Volatile.Write(ref _refuseWith, (int?)value ?? 0);
    }

    /// <summary>
    /// Answer the next upgrades with this HTTP status (and <c>Retry-After: 7</c>) instead of switching protocols, as a
    /// gateway in front of the collector may; 0 (the default) upgrades them.
    /// </summary>
    public int UpgradeStatus { get; set; }

    public static async Task<ScriptedWebSocketServer> StartAsync()
    {
        var server = new ScriptedWebSocketServer();
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        app.UseWebSockets();
        app.MapGet(Path, (RequestDelegate)server.HandleAsync);
        await app.StartAsync();

        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        int port = new Uri(addresses.Addresses.First()).Port;
        server._app = app;
        server.Endpoint = new Uri($"ws://127.0.0.1:{port}{Path}");
        return server;
    }

    /// <summary>The next connection accepted (in order).</summary>
    public async Task<ServerConnection> NextConnectionAsync(CancellationToken cancellationToken) =>
        await _accepted.Reader.ReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (ServerConnection connection in _all)
        {
            connection.Drop();
        }

        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(budget.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (UpgradeStatus != 0)
        {
            context.Response.StatusCode = UpgradeStatus;
            context.Response.Headers.RetryAfter = "7";
            return;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in context.Request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new ServerConnection(context, socket, headers);
        Interlocked.Increment(ref _connections);
        _all.Enqueue(connection);
        if (RefuseWith is { } code)
        {
            await connection.RefuseAsync(code);
        }

        _accepted.Writer.TryWrite(connection);
        await connection.ReceiveUntilClosedAsync();
    }
}

/// <summary>One connection of <see cref="ScriptedWebSocketServer"/>: what came in, and what to send back.</summary>
internal sealed class ServerConnection
{
    private readonly HttpContext _context;
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Channel<ServerMessage> _messages = Channel.CreateUnbounded<ServerMessage>();
    private readonly Lock _lifetimeLock = new();
    private bool _handlerReturned;

    public ServerConnection(HttpContext context, WebSocket socket, IReadOnlyDictionary<string, string> headers)
    {
        _context = context;
        _socket = socket;
        Headers = headers;
    }

    /// <summary>The headers of the upgrade request.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The next whole message the client sent.</summary>
    public async Task<ServerMessage> NextMessageAsync(CancellationToken cancellationToken) =>
        await _messages.Reader.ReadAsync(cancellationToken);

    /// <summary>Answers SUCCESS/OK with the message's req_guid, in the message's own format.</summary>
    public Task AckAsync(ServerMessage message, CancellationToken cancellationToken) =>
        AnswerAsync(Answer(Status.Success, Code.Ok, message.Request.ReqGuid), message.Type, cancellationToken);

    public static SendEventResponse Answer(Status status, Code code, string requestGuid, string reason = "")
    {
        var response = new SendEventResponse { Status = status, Code = code, Reason = reason, SentTime = 1_790_000_000 };
        response.Data["req_guid"] = requestGuid;
        return response;
    }

    /// <summary>Sends <paramref name="response"/>: protobuf in a binary frame, or Raccoon JSON in a text frame.</summary>
    public async Task AnswerAsync(SendEventResponse response, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        byte[] payload;
        if (type == WebSocketMessageType.Text)
        {
            var json = new ArrayBufferWriter<byte>();
            RaccoonJson.WriteResponse(response, json);
            payload = json.WrittenSpan.ToArray();
        }
        else
        {
            payload = response.ToByteArray();
        }

        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(payload, type, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends <paramref name="payload"/> as one message split over <paramref name="fragments"/> frames.</summary>
    public async Task SendFragmentedAsync(byte[] payload, WebSocketMessageType type, int fragments, CancellationToken cancellationToken)
    {
        int size = (payload.Length + fragments - 1) / fragments;
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            for (int offset = 0; offset < payload.Length; offset += size)
            {
                int length = Math.Min(size, payload.Length - offset);
                await _socket.SendAsync(payload.AsMemory(offset, length), type, endOfMessage: offset + length == payload.Length, cancellationToken);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Aborts the TCP connection without a close handshake, as a network failure does.</summary>
    public void Drop()
    {
        lock (_lifetimeLock)
        {
            // Kestrel may reuse the HttpContext once the handler returned.
            if (_handlerReturned)
            {
                return;
            }

            _context.Abort();
        }
    }

    /// <summary>Starts the close handshake with <paramref name="status"/>, as a server that ends the connection does.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string description, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.CloseOutputAsync(status, description, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    internal async Task RefuseAsync(Code code)
    {
        SendEventResponse refusal = Answer(Status.Error, code, string.Empty, code == Code.MaxUserLimitReached ? "duplicated connection: user-1" : "max connection reached");
        await AnswerAsync(refusal, WebSocketMessageType.Binary, CancellationToken.None);
        await _socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "duplicate connection: user-1", CancellationToken.None);
    }

    /// <summary>Reads messages until the client closes or the connection breaks; answers a close handshake.</summary>
    internal async Task ReceiveUntilClosedAsync()
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int length = 0;
                ValueWebSocketReceiveResult frame;
                do
                {
                    frame = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += frame.Count;
                }
                while (!frame.EndOfMessage && frame.MessageType != WebSocketMessageType.Close);

                if (frame.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    return;
                }

                _messages.Writer.TryWrite(new ServerMessage(frame.MessageType, buffer.AsSpan(0, length).ToArray()));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Dropped by the test or by the client.
        }
        finally
        {
            _messages.Writer.TryComplete();
            lock (_lifetimeLock)
            {
                _handlerReturned = true;
            }
        }
    }
}

/// <summary>One whole message from the client.</summary>
internal sealed record ServerMessage(WebSocketMessageType Type, byte[] Payload)
{
    /// <summary>The request it holds: protobuf in a binary frame, Raccoon JSON in a text frame.</summary>
    public SendEventRequest Request => Type == WebSocketMessageType.Binary
        ? SendEventRequest.Parser.ParseFrom(Payload)
        : RaccoonJson.ReadRequest(Payload);
}
