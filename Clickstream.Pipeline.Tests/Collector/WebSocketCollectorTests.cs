using System.Net.WebSockets;
using System.Text;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Microsoft.Extensions.Time.Testing;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

[CancelAfter(30_000)]
public class WebSocketCollectorTests : CollectorTestBase
{
    protected override CollectorOptions CreateOptions() => new() { TimeProvider = new FakeTimeProvider(Now) };

    [Test]
    public void WebSocketEndpoint_is_the_events_endpoint_as_ws()
    {
        Assert.That(_collector.WebSocketEndpoint, Is.EqualTo(new Uri($"ws://{_collector.BaseAddress.Authority}/api/v1/events")));
    }

    [Test]
    public async Task Binary_request_is_acked_in_protobuf_with_its_req_guid_and_recorded()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");

        await SendAsync(socket, Batch("ws-proto", pageViews: 2, clicks: 1));
        (WebSocketMessageType type, SendEventResponse answer) = await ReceiveAnswerAsync(socket);

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(answer.Status, Is.EqualTo(Status.Success));
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("ws-proto"));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds()));
            Assert.That(stats.Requests, Is.EqualTo(1));
            Assert.That(stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(stats.Events, Is.EqualTo(3));
            Assert.That(stats.EventsByType(), Is.EquivalentTo(new Dictionary<string, long> { ["pageview"] = 2, ["click"] = 1 }));
            Assert.That(stats.OpenWebSocketConnections, Is.EqualTo(1));
            Assert.That(stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.WebSocket, "ws-proto", "user-1", "--default--", Authorization: null, EventCount: 3),
            }));
        }
    }

    [Test]
    public async Task Text_request_is_acked_in_json()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1", "android");

        await SendAsync(socket, Batch("ws-json", pageViews: 2), json: true);
        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(socket);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Text));
            Assert.That(Encoding.UTF8.GetString(payload), Is.EqualTo("""{"status":1,"code":1,"sent_time":1790000000,"data":{"req_guid":"ws-json"}}"""));
            Assert.That(_collector.Stats.Events, Is.EqualTo(2));
            Assert.That(_collector.Stats.ReceivedRequests()[0].UserGroup, Is.EqualTo("android"));
        }
    }

    [Test]
    public async Task Several_requests_in_flight_on_one_connection_are_each_answered()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        string[] guids = ["r-1", "r-2", "r-3", "r-4", "r-5"];

        // All sent before any answer is read, alternating the two formats.
        for (int i = 0; i < guids.Length; i++)
        {
            await SendAsync(socket, Batch(guids[i], pageViews: i + 1), json: i % 2 == 1);
        }

        var acked = new List<string>();
        for (int i = 0; i < guids.Length; i++)
        {
            (_, SendEventResponse answer) = await ReceiveAnswerAsync(socket);
            Assert.That(answer.Status, Is.EqualTo(Status.Success));
            acked.Add(answer.Data["req_guid"]);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(acked, Is.EquivalentTo(guids));
            Assert.That(_collector.Stats.Events, Is.EqualTo(15));
        }
    }

    [Test]
    public async Task Bad_frames_are_answered_bad_request_and_the_connection_stays_open()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");

        await SendRawAsync(socket, [0x0A, 0xFF, 0x01], WebSocketMessageType.Binary);
        (WebSocketMessageType badProtoType, SendEventResponse badProto) = await ReceiveAnswerAsync(socket);
        await SendRawAsync(socket, "}{"u8.ToArray(), WebSocketMessageType.Text);
        (WebSocketMessageType badJsonType, SendEventResponse badJson) = await ReceiveAnswerAsync(socket);
        await SendAsync(socket, Batch("good", pageViews: 1));
        (_, SendEventResponse good) = await ReceiveAnswerAsync(socket);

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(badProtoType, Is.EqualTo(WebSocketMessageType.Binary), "answered in the frame's own format");
            Assert.That(badProto.Status, Is.EqualTo(Status.Error));
            Assert.That(badProto.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(badProto.Reason, Does.StartWith("cannot deserialize request: "));
            Assert.That(badProto.Data["req_guid"], Is.Empty);
            Assert.That(badJsonType, Is.EqualTo(WebSocketMessageType.Text));
            Assert.That(badJson.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(good.Data["req_guid"], Is.EqualTo("good"));
            Assert.That(socket.State, Is.EqualTo(WebSocketState.Open));
            Assert.That(stats.Requests, Is.EqualTo(3));
            Assert.That(stats.RejectedRequests, Is.EqualTo(2));
            Assert.That(stats.AcceptedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Second_connection_with_the_same_identity_gets_max_user_limit_then_close_1008()
    {
        using ClientWebSocket first = await ConnectAsync(_collector.WebSocketEndpoint, "user-1", "ios");
        using ClientWebSocket second = await ConnectAsync(_collector.WebSocketEndpoint, "user-1", "ios");

        (WebSocketMessageType type, SendEventResponse refusal) = await ReceiveAnswerAsync(second);
        (WebSocketMessageType closeType, _) = await ReceiveMessageAsync(second);

        // The first connection is not disturbed.
        await SendAsync(first, Batch("still-first", pageViews: 1));
        (_, SendEventResponse firstAnswer) = await ReceiveAnswerAsync(first);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary), "rejections are always protobuf");
            Assert.That(refusal.Status, Is.EqualTo(Status.Error));
            Assert.That(refusal.Code, Is.EqualTo(Code.MaxUserLimitReached));
            Assert.That(refusal.Reason, Is.EqualTo("duplicated connection: [ios] user-1,"), "Raccoon's own reason, comma included");
            Assert.That(refusal.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds()));
            Assert.That(closeType, Is.EqualTo(WebSocketMessageType.Close));
            Assert.That(second.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(second.CloseStatusDescription, Is.EqualTo("duplicate connection: user-1"));
            Assert.That(firstAnswer.Data["req_guid"], Is.EqualTo("still-first"));
            Assert.That(_collector.Stats.OpenWebSocketConnections, Is.EqualTo(1));
            Assert.That(_collector.Stats.RejectedWebSocketConnections, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Same_id_in_another_group_is_another_identity()
    {
        using ClientWebSocket first = await ConnectAsync(_collector.WebSocketEndpoint, "user-1", "ios");
        using ClientWebSocket second = await ConnectAsync(_collector.WebSocketEndpoint, "user-1", "android");

        await SendAsync(second, Batch("r-1", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(second);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.OpenWebSocketConnections, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task Connection_without_id_header_is_accepted_with_an_empty_id_like_raccoon()
    {
        using ClientWebSocket first = await ConnectAsync(_collector.WebSocketEndpoint, userId: null);
        await SendAsync(first, Batch("anonymous", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(first);

        // Raccoon reads the missing id as "": a second id-less connection in the group is the same identity.
        using ClientWebSocket second = await ConnectAsync(_collector.WebSocketEndpoint, userId: null);
        (_, SendEventResponse refusal) = await ReceiveAnswerAsync(second);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.ReceivedRequests()[0].UserId, Is.Null);
            Assert.That(refusal.Code, Is.EqualTo(Code.MaxUserLimitReached));
        }
    }

    [Test]
    public async Task Connection_over_max_connections_gets_max_connection_limit_then_close_1008()
    {
        await using RaccoonCollector collector = await RaccoonCollector.StartAsync(new CollectorOptions { MaxConnections = 2 });
        using ClientWebSocket first = await ConnectAsync(collector.WebSocketEndpoint, "user-1");
        using ClientWebSocket second = await ConnectAsync(collector.WebSocketEndpoint, "user-2");
        using ClientWebSocket third = await ConnectAsync(collector.WebSocketEndpoint, "user-3");

        (WebSocketMessageType type, SendEventResponse refusal) = await ReceiveAnswerAsync(third);
        (WebSocketMessageType closeType, _) = await ReceiveMessageAsync(third);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(refusal.Status, Is.EqualTo(Status.Error));
            Assert.That(refusal.Code, Is.EqualTo(Code.MaxConnectionLimitReached));
            Assert.That(refusal.Reason, Is.EqualTo("max connection reached"));
            Assert.That(closeType, Is.EqualTo(WebSocketMessageType.Close));
            Assert.That(third.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(third.CloseStatusDescription, Is.EqualTo("Max connection reached"));
            Assert.That(collector.Stats.OpenWebSocketConnections, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task Connection_closed_by_the_client_frees_its_identity()
    {
        using (ClientWebSocket first = await ConnectAsync(_collector.WebSocketEndpoint, "user-1"))
        {
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", Guard());
            Assert.That(first.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure), "the server answers the close");
        }

        Assert.That(_collector.Stats.OpenWebSocketConnections, Is.Zero);

        using ClientWebSocket again = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        await SendAsync(again, Batch("again", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(again);
        Assert.That(answer.Code, Is.EqualTo(Code.Ok));
    }

    [Test]
    public async Task Faults_answer_status_error_with_the_code_and_the_connection_stays_open()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.FailNext(1, statusCode: 503);
        await SendAsync(socket, Batch("r-1", pageViews: 1));
        (_, SendEventResponse serverError) = await ReceiveAnswerAsync(socket);

        _collector.Faults.FailNext(1, statusCode: 400);
        await SendAsync(socket, Batch("r-2", pageViews: 1), json: true);
        (_, SendEventResponse badRequest) = await ReceiveAnswerAsync(socket);

        await SendAsync(socket, Batch("r-3", pageViews: 1));
        (_, SendEventResponse success) = await ReceiveAnswerAsync(socket);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(serverError.Status, Is.EqualTo(Status.Error));
            Assert.That(serverError.Code, Is.EqualTo(Code.InternalError));
            Assert.That(serverError.Reason, Does.StartWith("cannot publish events:"));
            Assert.That(serverError.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That(badRequest.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(badRequest.Data["req_guid"], Is.EqualTo("r-2"));
            Assert.That(success.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(2));
            Assert.That(_collector.Stats.Events, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task RespondWithWrongRequestGuid_applies_on_websocket_too()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.RespondWithWrongRequestGuid = true;

        await SendAsync(socket, Batch("r-1", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(socket);

        Assert.That(answer.Data["req_guid"], Is.Not.EqualTo("r-1").And.Not.Empty);
    }

    [Test]
    public async Task DropWebSocketConnections_aborts_the_client_socket_and_frees_the_identity()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        Task<(WebSocketMessageType, byte[])> pending = ReceiveMessageAsync(socket);

        int dropped = _collector.Faults.DropWebSocketConnections();

        Assert.That(async () => await pending, Throws.InstanceOf<WebSocketException>(), "aborted, not closed");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(dropped, Is.EqualTo(1));
            Assert.That(socket.State, Is.EqualTo(WebSocketState.Aborted));
            Assert.That(_collector.Stats.OpenWebSocketConnections, Is.Zero);
        }

        using ClientWebSocket again = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        await SendAsync(again, Batch("after-drop", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(again);
        Assert.That(answer.Code, Is.EqualTo(Code.Ok), "a reconnect is not a duplicate of the dropped connection");
    }

    [Test]
    public async Task WithholdResponses_sends_no_answer_until_switched_off_and_keeps_reading()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.WithholdResponses = true;

        await SendAsync(socket, Batch("held-1", pageViews: 1));
        await SendAsync(socket, Batch("held-2", pageViews: 1));
        Task<(WebSocketMessageType, SendEventResponse)> answer = ReceiveAnswerAsync(socket);

        // Both counted: the connection read the second request while the first answer was held.
        await _collector.WaitForEventsAsync(2, Guard());
        Assert.That(answer.IsCompleted, Is.False);

        _collector.Faults.WithholdResponses = false;
        (_, SendEventResponse first) = await answer;
        (_, SendEventResponse second) = await ReceiveAnswerAsync(socket);

        Assert.That(new[] { first.Data["req_guid"], second.Data["req_guid"] }, Is.EquivalentTo(new[] { "held-1", "held-2" }));
    }

    [Test]
    public async Task Get_without_upgrade_answers_400_like_raccoon()
    {
        using var client = new HttpClient();
        using HttpResponseMessage response = await client.GetAsync(_collector.EventsEndpoint, Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.BadRequest));
            Assert.That(response.Headers.GetValues("Sec-WebSocket-Version"), Is.EqualTo(new[] { "13" }));
            Assert.That(_collector.Stats.Requests, Is.Zero);
        }
    }
}
