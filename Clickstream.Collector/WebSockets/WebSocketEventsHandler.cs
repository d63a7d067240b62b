using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Clickstream.Collector.Requests;
using Clickstream.Collector.Wire;
using Clickstream.Raccoon;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Clickstream.Collector.WebSockets;

/// <summary>
/// <c>GET /api/v1/events</c>: the WebSocket upgrade and the connection's messages, as Raccoon's WebSocket handler
/// (raystack/raccoon server/rest/websocket/handler.go and connection/upgrader.go) with async acks.
/// </summary>
/// <remarks>
/// <para>
/// Binary messages are protobuf and text messages JSON; each gets one answer in its own format with
/// <c>data.req_guid</c>. A message that does not decode gets BAD_REQUEST and the connection stays open.
/// </para>
/// <para>
/// Identity is (id header, group header); an upgrade without an id header is accepted as Raccoon accepts it, with the
/// id "" (unless <see cref="CollectorOptions.RequireIdentity"/>). After the upgrade, as Raccoon does, the connection
/// table is checked: over the cap, or a second connection of one identity, gets a protobuf STATUS_ERROR frame
/// (CODE_MAX_CONNECTION_LIMIT_REACHED or CODE_MAX_USER_LIMIT_REACHED) and close 1008.
/// </para>
/// <para>
/// Keep-alive: .NET's WebSocket sends real Ping frames (which a client answers with a Pong) only when a keep-alive
/// timeout is set; with an interval alone it sends unsolicited Pongs, which nobody answers. So the accept context sets
/// both: a Ping after <see cref="CollectorOptions.PingInterval"/> without incoming data, and an abort when its Pong
/// does not come within <see cref="CollectorOptions.PongTimeout"/>. Raccoon pings on a fixed ticker and extends a read
/// deadline on every Pong; the effect for a client is the same: answer pings or be dropped.
/// </para>
/// </remarks>
internal sealed class WebSocketEventsHandler(
    CollectorSettings settings,
    AccessPolicy access,
    RequestAcceptor acceptor,
    CollectorStats stats,
    WebSocketConnectionTable connections)
{
    // Raccoon's reason strings (connection/upgrader.go, websocket/handler.go).
    private const string DeserializationFailurePrefix = "cannot deserialize request: ";
    private const string MaxConnectionReason = "max connection reached";
    private const string MaxConnectionCloseReason = "Max connection reached";
    private const string DuplicateCloseReasonPrefix = "duplicate connection: ";

    // RFC 6455 allows 123 bytes of close reason (a control frame carries 125, 2 of them the status code).
    private const int MaxCloseReasonBytes = 123;

    private const int InitialMessageBuffer = 16 * 1024;
    private const int ReceiveChunk = 4 * 1024;
    private const int ResponseBufferSize = 256;

    // What gorilla/websocket answers a GET that is not an upgrade: 400, its status text, the version it speaks.
    private static readonly ReadOnlyMemory<byte> NotAnUpgradeBody = "Bad Request\n"u8.ToArray();

    /// <summary>The accept context: keep-alive pings and their timeout (see the remarks).</summary>
    public static WebSocketAcceptContext AcceptContext(CollectorSettings settings) => new()
    {
        KeepAliveInterval = settings.PingInterval,
        KeepAliveTimeout = settings.PingInterval == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : settings.PongTimeout,
    };

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.Headers[HeaderNames.SecWebSocketVersion] = "13";
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.Body.WriteAsync(NotAnUpgradeBody, context.RequestAborted);
            return;
        }

        IHeaderDictionary headers = context.Request.Headers;
        var identity = ClientIdentity.From(headers, settings);
        string? authorization = headers.Authorization.Count == 0 ? null : headers.Authorization[0];
        AccessDecision decision = access.Check(authorization, identity);
        if (decision != AccessDecision.Allowed)
        {
            // Refused before the upgrade, as a gateway in front of Raccoon refuses it: a plain HTTP 401.
            stats.OnWebSocketConnectionRejected();
            await HttpAnswer.RefuseAsync(context, decision, WireFormat.Json, acceptor);
            return;
        }

        WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(AcceptContext(settings));
        using var session = new WebSocketSession(socket, identity, authorization);
        Admission admission = connections.TryAdmit(session);
        if (admission != Admission.Admitted)
        {
            stats.OnWebSocketConnectionRejected();
            await RefuseAsync(session, admission, context.RequestAborted);
            return;
        }

        try
        {
            using var receiving = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.ReceiveStopped);
            await ReceiveAsync(session, receiving.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client went away, was dropped (by a fault too), missed a pong, or the collector is stopping: nothing to answer.
        }
        finally
        {
            connections.Remove(session);
            await session.EndAsync();
        }
    }

    /// <summary>The reason of a 1009 close: the limit, in bytes, and the option that sets it.</summary>
    internal static string TooBigReason(int maxBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"message larger than {maxBytes} bytes ({CollectorFlags.MaxRequestBytes})");

    private static string Truncate(string closeReason)
    {
        if (Encoding.UTF8.GetByteCount(closeReason) <= MaxCloseReasonBytes)
        {
            return closeReason;
        }

        int length = closeReason.Length;
        while (Encoding.UTF8.GetByteCount(closeReason.AsSpan(0, length)) > MaxCloseReasonBytes || char.IsHighSurrogate(closeReason[length - 1]))
        {
            length--;
        }

        return closeReason[..length];
    }

    private async Task ReceiveAsync(WebSocketSession session, CancellationToken aborted)
    {
        using var message = new PooledBufferWriter(InitialMessageBuffer);

        // Checked before each receive: a truncated answer sent from this loop ends it here, and the handler returns
        // without an abort, so the half answer reaches the client before the connection closes.
        while (!session.ReceiveStopped.IsCancellationRequested)
        {
            message.Clear();
            ValueWebSocketReceiveResult frame;
            do
            {
                // The buffer only grows to hold the limit plus one byte: enough to know the message is too big, and the
                // most a connection buffers. The receive may fill all the room the buffer has, beyond the hint, so the
                // check below is what holds the limit.
                int room = Math.Min(ReceiveChunk, settings.MaxRequestBytes + 1 - message.WrittenCount);
                frame = await session.Socket.ReceiveAsync(message.GetMemory(room), aborted);
                message.Advance(frame.Count);
                if (message.WrittenCount > settings.MaxRequestBytes)
                {
                    // 1009, as RFC 6455 and gorilla's read limit do: a BAD_REQUEST frame would mean reading the rest of
                    // the message to skip it, and could name no req_guid, so the client could match it to no batch.
                    stats.OnRejected();
                    connections.Remove(session);
                    await session.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, Truncate(TooBigReason(settings.MaxRequestBytes)), aborted);
                    return;
                }
            }
            while (!frame.EndOfMessage && frame.MessageType != WebSocketMessageType.Close);

            if (frame.MessageType == WebSocketMessageType.Close)
            {
                // Out of the count before the close is answered: a client whose close completed sees it gone.
                connections.Remove(session);
                await session.CloseOutputAsync(session.Socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, aborted);
                return;
            }

            WireFormat format = frame.MessageType == WebSocketMessageType.Binary ? WireFormat.Proto : WireFormat.Json;
            await OnMessageAsync(session, format, message.WrittenMemory, aborted);
        }
    }

    private ValueTask OnMessageAsync(WebSocketSession session, WireFormat format, ReadOnlyMemory<byte> payload, CancellationToken aborted)
    {
        stats.OnRequest();
        RequestOutcome outcome;
        if (WireCodec.TryDecode(format, new ReadOnlySequence<byte>(payload), out SendEventRequest? request, out string? error))
        {
            outcome = acceptor.Process(request, new RequestOrigin(CollectorProtocol.WebSocket, session.Identity, session.Authorization));
        }
        else
        {
            stats.OnRejected();

            // Raccoon sends back the req_guid it read before decoding failed; ours decode all or nothing, so none.
            SendEventResponse response = RequestAcceptor.Error(Code.BadRequest, DeserializationFailurePrefix + error);
            response.Data.Add(RequestAcceptor.RequestGuidKey, string.Empty);
            outcome = new RequestOutcome(StatusCodes.Status400BadRequest, response);
        }

        ValueTask hold = acceptor.HoldAnswerAsync(outcome.Fault, session.Ended);
        if (hold.IsCompletedSuccessfully)
        {
            return DeliverAsync(session, format, outcome, aborted);
        }

        // Held answers wait apart, so the connection goes on reading (Raccoon's sync acks also come from elsewhere).
        session.TrackHeldAnswer(SendHeldAnswerAsync(session, hold, format, outcome));
        return ValueTask.CompletedTask;
    }

    private async Task SendHeldAnswerAsync(WebSocketSession session, ValueTask hold, WireFormat format, RequestOutcome outcome)
    {
        try
        {
            await hold.ConfigureAwait(false);
            await DeliverAsync(session, format, outcome, session.Ended).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The connection ended (or the collector stopped) first: the answer is lost, as it would be.
        }
    }

    /// <summary>Sends the answer, or does to it what its fault says.</summary>
    private ValueTask DeliverAsync(WebSocketSession session, WireFormat format, RequestOutcome outcome, CancellationToken cancellationToken)
    {
        switch (outcome.Fault?.Kind)
        {
            case FaultKind.ConnectionReset:
                // Dropped mid-batch: this request read, its answer (and any other still held) never sent.
                session.Abort();
                return ValueTask.CompletedTask;
            case FaultKind.TruncatedResponse:
                return SendTruncatedAsync(session, format, outcome.Response, cancellationToken);
            case FaultKind.MalformedResponse:
                return session.SendAsync(MalformedBody.Bytes, MessageType(format), cancellationToken);
            default:
                return SendAnswerAsync(session, format, outcome.Response, cancellationToken);
        }
    }

    private async ValueTask SendTruncatedAsync(WebSocketSession session, WireFormat format, SendEventResponse response, CancellationToken cancellationToken)
    {
        acceptor.Stamp(response);
        using var buffer = new PooledBufferWriter(ResponseBufferSize);
        WireCodec.Encode(response, format, buffer);
        await session.SendPartAndEndAsync(buffer.WrittenMemory[..MalformedBody.TruncatedLength(buffer.WrittenCount)], MessageType(format), cancellationToken)
            .ConfigureAwait(false);
    }

    private static WebSocketMessageType MessageType(WireFormat format) =>
        format == WireFormat.Proto ? WebSocketMessageType.Binary : WebSocketMessageType.Text;

    private async ValueTask SendAnswerAsync(WebSocketSession session, WireFormat format, SendEventResponse response, CancellationToken cancellationToken)
    {
        acceptor.Stamp(response);
        using var buffer = new PooledBufferWriter(ResponseBufferSize);
        WireCodec.Encode(response, format, buffer);
        await session.SendAsync(buffer.WrittenMemory, MessageType(format), cancellationToken).ConfigureAwait(false);
    }

    private async Task RefuseAsync(WebSocketSession session, Admission admission, CancellationToken aborted)
    {
        (Code code, string reason, string closeReason) = admission == Admission.DuplicateIdentity
            ? (Code.MaxUserLimitReached, $"duplicated connection: {session.Identity},", DuplicateCloseReasonPrefix + session.Identity.UserId)
            : (Code.MaxConnectionLimitReached, MaxConnectionReason, MaxConnectionCloseReason);

        // Always protobuf, whatever the client meant to speak, then close 1008 without waiting for the client's close.
        SendEventResponse refusal = RequestAcceptor.Error(code, reason);
        try
        {
            await SendAnswerAsync(session, WireFormat.Proto, refusal, aborted);
            await session.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, Truncate(closeReason), aborted);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client left first.
        }
        finally
        {
            await session.EndAsync();
        }
    }
}
