using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Google.Protobuf;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>Each fault as a real <see cref="ClientWebSocket"/> sees it, and as the collector counts it.</summary>
[CancelAfter(30_000)]
public class WebSocketFaultsTests : CollectorTestBase
{
    protected override CollectorOptions CreateOptions() => OnSignalingClock(new CollectorOptions());

    [Test]
    public async Task ConnectionReset_drops_the_connection_mid_batch_and_the_held_answers_are_lost()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.WithholdResponses = true;
        await SendAsync(socket, Batch("r-1", pageViews: 1));
        await SendAsync(socket, Batch("r-2", pageViews: 1));
        await _collector.WaitForEventsAsync(2, Guard());

        // Read, then the connection goes before any answer of the batch in flight.
        _collector.Faults.FailNext(1, Fault.ConnectionReset);
        await SendAsync(socket, Batch("r-3", pageViews: 1));

        Assert.That(async () => await ReceiveMessageAsync(socket), Throws.InstanceOf<WebSocketException>());
        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(socket.State, Is.EqualTo(WebSocketState.Aborted), "aborted, not closed");
            Assert.That(stats.Requests, Is.EqualTo(3));
            Assert.That(stats.AcceptedRequests, Is.EqualTo(2));
            Assert.That(stats.FailedRequests, Is.EqualTo(1));
            Assert.That(stats.RequestIds(), Is.EqualTo(new[] { "r-1", "r-2" }));
            Assert.That(stats.Faults(FaultKind.ConnectionReset), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ConnectionReset_after_an_answered_request_leaves_the_next_ones_unread()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        await SendAsync(socket, Batch("r-1", pageViews: 1));
        (_, SendEventResponse first) = await ReceiveAnswerAsync(socket);

        _collector.Faults.FailNext(1, Fault.ConnectionReset.AfterAccepting());
        await SendAsync(socket, Batch("r-2", pageViews: 2));

        Assert.That(async () => await ReceiveMessageAsync(socket), Throws.InstanceOf<WebSocketException>());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That(_collector.Stats.RequestIds(), Is.EqualTo(new[] { "r-1", "r-2" }), "accepted, then the answer lost: a retry is a duplicate");
            Assert.That(_collector.Stats.Events, Is.EqualTo(3));
            Assert.That(_collector.Stats.Faults(FaultKind.ConnectionReset), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task TruncatedResponse_sends_half_a_message_then_closes_without_a_handshake()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.FailNext(1, Fault.TruncatedResponse);
        await SendAsync(socket, Batch("r-1", pageViews: 1));

        var part = new byte[4096];
        ValueWebSocketReceiveResult first = await socket.ReceiveAsync(part.AsMemory(), Guard());

        Assert.That(async () => await socket.ReceiveAsync(part.AsMemory(first.Count), Guard()), Throws.InstanceOf<WebSocketException>());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.MessageType, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(first.EndOfMessage, Is.False, "the message never ends");
            Assert.That(first.Count, Is.GreaterThan(0));
            Assert.That(_collector.Stats.Faults(FaultKind.TruncatedResponse), Is.EqualTo(1));
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task MalformedResponse_is_a_whole_frame_of_the_request_type_that_does_not_decode(bool json)
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.FailNext(1, Fault.MalformedResponse);
        await SendAsync(socket, Batch("r-1", pageViews: 1), json);

        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(socket);
        await SendAsync(socket, Batch("r-2", pageViews: 1), json);
        (_, SendEventResponse next) = await ReceiveAnswerAsync(socket);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(type, Is.EqualTo(json ? WebSocketMessageType.Text : WebSocketMessageType.Binary));
            Assert.That(() => Encoding.UTF8.GetString(payload), Throws.Nothing, "a text frame stays valid UTF-8");
            Assert.That(() => SendEventResponse.Parser.ParseFrom(payload), Throws.InstanceOf<InvalidProtocolBufferException>());
            Assert.That(() => RaccoonJson.ReadResponse(payload), Throws.InstanceOf<JsonException>().Or.InstanceOf<FormatException>());
            Assert.That(next.Data["req_guid"], Is.EqualTo("r-2"), "the connection stays open");
            Assert.That(_collector.Stats.Faults(FaultKind.MalformedResponse), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task SoftError_and_429_answer_status_error_frames_and_the_connection_stays_open()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.FailNext(1, Fault.SoftError);
        await SendAsync(socket, Batch("r-1", pageViews: 1));
        (_, SendEventResponse soft) = await ReceiveAnswerAsync(socket);

        // Retry-After has no place in a frame: the answer is the same without it.
        _collector.Faults.FailNext(1, Fault.Status(429, RetryAfter.Seconds(3)));
        await SendAsync(socket, Batch("r-2", pageViews: 1));
        (_, SendEventResponse tooMany) = await ReceiveAnswerAsync(socket);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((soft.Status, soft.Code), Is.EqualTo((Status.Error, Code.InternalError)));
            Assert.That(soft.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That((tooMany.Status, tooMany.Code), Is.EqualTo((Status.Error, Code.BadRequest)));
            Assert.That(socket.State, Is.EqualTo(WebSocketState.Open));
            Assert.That(_collector.Stats.Faults(FaultKind.SoftError), Is.EqualTo(1));
            Assert.That(_collector.Stats.Faults(FaultKind.ErrorStatus), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Delay_is_a_slow_ack_on_the_collector_clock_and_the_connection_keeps_reading()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.Delay = TimeSpan.FromSeconds(5);

        await SendAsync(socket, Batch("slow-1", pageViews: 1));
        await SendAsync(socket, Batch("slow-2", pageViews: 1));
        await _time.TimersCreated(2).WaitAsync(Guard());
        Task<(WebSocketMessageType, SendEventResponse)> answer = ReceiveAnswerAsync(socket);

        Assert.That(answer.IsCompleted, Is.False, "both read and counted, neither answered");
        Assert.That(_collector.Stats.Events, Is.EqualTo(2));

        _time.Advance(TimeSpan.FromSeconds(5));
        (_, SendEventResponse first) = await answer;
        (_, SendEventResponse second) = await ReceiveAnswerAsync(socket);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(new[] { first.Data["req_guid"], second.Data["req_guid"] }, Is.EquivalentTo(new[] { "slow-1", "slow-2" }));
            Assert.That(first.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds() + 5));
            Assert.That(_collector.Stats.Faults(FaultKind.DelayedAnswer), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task FailRandomly_with_a_seed_picks_the_same_requests_on_websocket()
    {
        const int Seed = 11;
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        _collector.Faults.FailRandomly(0.5, Fault.SoftError, Seed);

        var draws = new Random(Seed);
        var expected = new List<Status>();
        var actual = new List<Status>();
        for (int i = 0; i < 20; i++)
        {
            expected.Add(draws.NextDouble() < 0.5 ? Status.Error : Status.Success);
            await SendAsync(socket, Batch($"r-{i}", pageViews: 1));
            actual.Add((await ReceiveAnswerAsync(socket)).Answer.Status);
        }

        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public async Task DropWebSocketConnections_is_counted_per_connection()
    {
        using ClientWebSocket first = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        using ClientWebSocket second = await ConnectAsync(_collector.WebSocketEndpoint, "user-2");

        int dropped = _collector.Faults.DropWebSocketConnections();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(dropped, Is.EqualTo(2));
            Assert.That(_collector.Stats.Faults(FaultKind.WebSocketDropped), Is.EqualTo(2));
        }
    }
}
