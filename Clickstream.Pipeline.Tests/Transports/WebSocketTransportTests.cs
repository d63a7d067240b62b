using System.Net.WebSockets;
using Clickstream.Pipeline.Processing;
using Clickstream.Raccoon;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Transports;

/// <summary>
/// The WebSocket transport against <see cref="ScriptedWebSocketServer"/> on loopback: the test decides every answer
/// (out of order, late, never, a refusal, a drop), and drives ack timeouts and reconnect backoff with a fake clock.
/// </summary>
[CancelAfter(30_000)]
public class WebSocketTransportTests
{
    // Event ids of Diagnostics.Log.
    private const int ConnectFailedEventId = 21;
    private const int DroppedEventId = 22;
    private const int RefusedEventId = 23;

    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReconnectBaseDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReconnectMaxDelay = TimeSpan.FromSeconds(8);

    private readonly List<WebSocketTransport> _transports = [];
    private ScriptedWebSocketServer _server = null!;
    private FakeTimeProvider _time = null!;
    private RecordingLoggerFactory _log = null!;

    private static CancellationToken Guard => TestContext.CurrentContext.CancellationToken;

    [SetUp]
    public async Task StartServer()
    {
        _server = await ScriptedWebSocketServer.StartAsync();
        _time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_790_000_000));
        _log = new RecordingLoggerFactory();
    }

    [TearDown]
    public async Task StopServer()
    {
        foreach (WebSocketTransport transport in _transports)
        {
            transport.Dispose();
        }

        await _server.DisposeAsync();
        _log.Dispose();
    }

    [Test]
    public void TransportFactory_makes_a_WebSocketTransport_for_the_WebSocket_option()
    {
        using IEventTransport transport = TransportFactory.Create(Settings());
        Assert.That(transport, Is.TypeOf<WebSocketTransport>());
    }

    [Test]
    public async Task Batch_acked_with_its_req_guid_is_acknowledged()
    {
        WebSocketTransport transport = Transport();
        var requestGuid = Guid.NewGuid();
        EventEnvelope[] batch = [Envelopes.Make(1), Envelopes.Make(2, size: 10, durable: false)];

        Task<SendOutcome> send = transport.SendAsync(requestGuid, batch, Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        ServerMessage message = await connection.NextMessageAsync(Guard);
        await connection.AckAsync(message, Guard);
        SendOutcome outcome = await send.WaitAsync(Guard);

        SendEventRequest request = message.Request;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(SendOutcome.Acknowledged));
            Assert.That(message.Type, Is.EqualTo(WebSocketMessageType.Binary), "protobuf in a binary frame by default");
            Assert.That(request.ReqGuid, Is.EqualTo(requestGuid.ToString()));
            Assert.That(request.Events, Has.Count.EqualTo(2));
            Assert.That(request.Events[0].EventBytes.ToByteArray(), Is.EqualTo(batch[0].Bytes));
            Assert.That(request.Events[0].Type, Is.EqualTo("pageview"));
            Assert.That(request.Events[1].EventBytes.ToByteArray(), Is.EqualTo(batch[1].Bytes));
            Assert.That(request.Events[1].Type, Is.EqualTo("click"));
        }
    }

    [Test]
    public async Task Error_answer_with_the_batchs_req_guid_fails_it_with_its_kind_and_the_connection_stays_open()
    {
        WebSocketTransport transport = Transport();

        Task<SendOutcome> rejected = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        ServerMessage first = await connection.NextMessageAsync(Guard);
        await connection.AnswerAsync(
            ServerConnection.Answer(Status.Error, Code.BadRequest, first.Request.ReqGuid, "cannot deserialize request"), WebSocketMessageType.Binary, Guard);
        SendOutcome rejectedOutcome = await rejected.WaitAsync(Guard);

        Task<SendOutcome> next = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard);
        await connection.AckAsync(await connection.NextMessageAsync(Guard), Guard);
        SendOutcome nextOutcome = await next.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rejectedOutcome.Result, Is.EqualTo(SendResult.Rejected));
            Assert.That(rejectedOutcome.Detail, Is.EqualTo("cannot deserialize request"));
            Assert.That(nextOutcome.IsAcknowledged, Is.True);
            Assert.That(_server.Connections, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Ack_split_over_several_frames_is_read_as_one_message()
    {
        WebSocketTransport transport = Transport();
        var requestGuid = Guid.NewGuid();

        Task<SendOutcome> send = transport.SendAsync(requestGuid, [Envelopes.Make(1)], Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        await connection.NextMessageAsync(Guard);
        byte[] ack = ServerConnection.Answer(Status.Success, Code.Ok, requestGuid.ToString()).ToByteArray();
        await connection.SendFragmentedAsync(ack, WebSocketMessageType.Binary, fragments: 3, Guard);

        Assert.That(await send.WaitAsync(Guard), Is.EqualTo(SendOutcome.Acknowledged));
    }

    [Test]
    public async Task Response_over_the_64_KiB_cap_ends_the_connection_and_fails_the_batches_in_flight()
    {
        WebSocketTransport transport = Transport();

        (Task<SendOutcome> send, ServerConnection connection) = await SendOneReadByServerAsync(transport);
        await connection.SendFragmentedAsync(new byte[(64 * 1024) + 1], WebSocketMessageType.Binary, fragments: 5, Guard);
        SendOutcome outcome = await send.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(outcome.Detail, Does.Contain("65536 bytes"));
        }
    }

    [Test]
    public async Task Batches_in_flight_together_are_each_matched_by_req_guid_when_answered_out_of_order()
    {
        WebSocketTransport transport = Transport(o => o.WebSocket.MaxInFlightBatches = 3);
        Guid[] guids = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];

        var sends = new Task<SendOutcome>[guids.Length];
        for (int i = 0; i < guids.Length; i++)
        {
            sends[i] = transport.SendAsync(guids[i], [Envelopes.Make(i)], Guard);
        }

        // All three arrive before any answer: they are in flight together on one connection.
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        var messages = new ServerMessage[guids.Length];
        for (int i = 0; i < messages.Length; i++)
        {
            messages[i] = await connection.NextMessageAsync(Guard);
        }

        for (int i = messages.Length - 1; i >= 0; i--)
        {
            await connection.AckAsync(messages[i], Guard);
        }

        SendOutcome[] outcomes = await Task.WhenAll(sends).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcomes, Is.All.EqualTo(SendOutcome.Acknowledged));
            Assert.That(Array.ConvertAll(messages, m => m.Request.ReqGuid), Is.EquivalentTo(Array.ConvertAll(guids, g => g.ToString())));
            Assert.That(_server.Connections, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Batch_without_an_ack_within_AckTimeout_times_out_frees_its_slot_and_its_late_ack_is_ignored()
    {
        WebSocketTransport transport = Transport(o => o.WebSocket.MaxInFlightBatches = 2);
        var lateGuid = Guid.NewGuid();
        var bGuid = Guid.NewGuid();
        var cGuid = Guid.NewGuid();

        Task<SendOutcome> late = transport.SendAsync(lateGuid, [Envelopes.Make(1)], Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        ServerMessage lateMessage = await connection.NextMessageAsync(Guard);

        // B takes the other slot just before the late batch's timeout. Its arrival also shows that the late batch's
        // send is over (one send at a time), so the timeout below finds it waiting for its ack, not still sending.
        _time.Advance(AckTimeout - TimeSpan.FromTicks(1));
        Task<SendOutcome> sendB = transport.SendAsync(bGuid, [Envelopes.Make(2)], Guard);
        ServerMessage bMessage = await connection.NextMessageAsync(Guard);
        _time.Advance(TimeSpan.FromTicks(1));
        SendOutcome lateOutcome = await late.WaitAsync(Guard);

        // C can only go out on the slot the timeout freed.
        Task<SendOutcome> sendC = transport.SendAsync(cGuid, [Envelopes.Make(3)], Guard);
        ServerMessage cMessage = await connection.NextMessageAsync(Guard);

        // The late ack comes first, while B and C wait: it must complete neither.
        await connection.AckAsync(lateMessage, Guard);
        await connection.AckAsync(bMessage, Guard);
        await connection.AckAsync(cMessage, Guard);
        SendOutcome[] outcomes = await Task.WhenAll(sendB, sendC).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(lateOutcome.Result, Is.EqualTo(SendResult.Timeout));
            Assert.That(cMessage.Request.ReqGuid, Is.EqualTo(cGuid.ToString()));
            Assert.That(outcomes, Is.All.EqualTo(SendOutcome.Acknowledged));
            Assert.That(_server.Connections, Is.EqualTo(1), "a late ack does not end the connection");
        }
    }

    [Test]
    public async Task Window_of_MaxInFlightBatches_holds_the_next_batch_until_an_ack_frees_a_slot()
    {
        WebSocketTransport transport = Transport(o => o.WebSocket.MaxInFlightBatches = 2);
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        var c = Guid.NewGuid();

        Task<SendOutcome> sendA = transport.SendAsync(a, [Envelopes.Make(1)], Guard);
        Task<SendOutcome> sendB = transport.SendAsync(b, [Envelopes.Make(2)], Guard);
        Task<SendOutcome> sendC = transport.SendAsync(c, [Envelopes.Make(3)], Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        var firstTwo = new[] { await connection.NextMessageAsync(Guard), await connection.NextMessageAsync(Guard) };

        // Just before A's and B's ack timeouts, A is acked: its slot lets C go, and C's ack timeout starts only now.
        _time.Advance(AckTimeout - TimeSpan.FromTicks(1));
        await connection.AckAsync(Array.Find(firstTwo, m => m.Request.ReqGuid == a.ToString())!, Guard);
        SendOutcome outcomeA = await sendA.WaitAsync(Guard);
        ServerMessage third = await connection.NextMessageAsync(Guard);

        // B's timeout passes (B's send is over: C, sent after it, has arrived). Had C gone out with A and B, past the
        // window, its timeout would pass with B's.
        _time.Advance(TimeSpan.FromTicks(1));
        SendOutcome outcomeB = await sendB.WaitAsync(Guard);
        await connection.AckAsync(third, Guard);
        SendOutcome outcomeC = await sendC.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Array.ConvertAll(firstTwo, m => m.Request.ReqGuid), Is.EquivalentTo(new[] { a.ToString(), b.ToString() }));
            Assert.That(third.Request.ReqGuid, Is.EqualTo(c.ToString()));
            Assert.That(outcomeA, Is.EqualTo(SendOutcome.Acknowledged));
            Assert.That(outcomeB.Result, Is.EqualTo(SendResult.Timeout));
            Assert.That(outcomeC, Is.EqualTo(SendOutcome.Acknowledged), "C was sent only when A's slot freed");
        }
    }

    [Test]
    public async Task Dropped_connection_fails_the_batches_in_flight_and_the_next_send_reconnects_after_the_backoff()
    {
        WebSocketTransport transport = Transport();

        Task<SendOutcome> sendA = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard);
        Task<SendOutcome> sendB = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard);
        ServerConnection first = await _server.NextConnectionAsync(Guard);
        await first.NextMessageAsync(Guard);
        await first.NextMessageAsync(Guard);
        first.Drop();
        SendOutcome[] dropped = await Task.WhenAll(sendA, sendB).WaitAsync(Guard);

        // Within the backoff the send fails at once instead of reconnecting or waiting.
        SendOutcome duringBackoff = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(3)], Guard).WaitAsync(Guard);
        int connectionsDuringBackoff = _server.Connections;

        _time.Advance(ReconnectMaxDelay);
        Task<SendOutcome> sendD = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(4)], Guard);
        ServerConnection second = await _server.NextConnectionAsync(Guard);
        await second.AckAsync(await second.NextMessageAsync(Guard), Guard);
        SendOutcome outcomeD = await sendD.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Array.ConvertAll(dropped, o => o.Result), Is.All.EqualTo(SendResult.NetworkError));
            Assert.That(duringBackoff.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(duringBackoff.Detail, Does.StartWith("reconnecting in 00:00:00.5000000"), "base delay x the fixed jitter sample 0.5");
            Assert.That(connectionsDuringBackoff, Is.EqualTo(1));
            Assert.That(outcomeD, Is.EqualTo(SendOutcome.Acknowledged));
            Assert.That(_server.Connections, Is.EqualTo(2));
            Assert.That(_log.Count(DroppedEventId), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Refusal_with_MAX_USER_LIMIT_REACHED_and_close_1008_fails_the_batch_and_is_logged_once_while_it_repeats()
    {
        _server.RefuseWith = Code.MaxUserLimitReached;
        WebSocketTransport transport = Transport();

        SendOutcome first = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard).WaitAsync(Guard);
        SendOutcome duringBackoff = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard).WaitAsync(Guard);
        _time.Advance(ReconnectMaxDelay);
        SendOutcome again = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(3)], Guard).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(first.Detail, Does.Contain(nameof(Code.MaxUserLimitReached)));
            Assert.That(duringBackoff.Detail, Does.StartWith("reconnecting in"), "the next connect waits for the backoff");
            Assert.That(again.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(again.Detail, Does.Contain(nameof(Code.MaxUserLimitReached)));
            Assert.That(_server.Connections, Is.EqualTo(2));
            Assert.That(_log.Count(RefusedEventId), Is.EqualTo(1), "one log entry for the run of refusals");
            Assert.That(_log.Count(DroppedEventId), Is.Zero, "a refusal is not logged as a drop");
        }
    }

    [Test]
    public async Task Refusal_after_an_acknowledged_batch_is_logged_again()
    {
        _server.RefuseWith = Code.MaxConnectionLimitReached;
        WebSocketTransport transport = Transport();
        await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard).WaitAsync(Guard);

        // The collector has room again: a batch is acked, which ends the run of failures.
        _server.RefuseWith = null;
        _time.Advance(ReconnectMaxDelay);
        Task<SendOutcome> acked = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard);
        await _server.NextConnectionAsync(Guard);
        ServerConnection accepted = await _server.NextConnectionAsync(Guard);
        await accepted.AckAsync(await accepted.NextMessageAsync(Guard), Guard);
        SendOutcome ackedOutcome = await acked.WaitAsync(Guard);

        // It fills up again: the connection is dropped with a batch in flight, and the reconnect is refused.
        Task<SendOutcome> inFlight = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(3)], Guard);
        await accepted.NextMessageAsync(Guard);
        _server.RefuseWith = Code.MaxConnectionLimitReached;
        accepted.Drop();
        await inFlight.WaitAsync(Guard);
        _time.Advance(ReconnectMaxDelay);
        SendOutcome refusedAgain = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(4)], Guard).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ackedOutcome, Is.EqualTo(SendOutcome.Acknowledged));
            Assert.That(refusedAgain.Detail, Does.Contain(nameof(Code.MaxConnectionLimitReached)));
            Assert.That(_log.Count(RefusedEventId), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task Close_1008_without_a_refusal_frame_fails_the_batches_in_flight_as_a_refusal()
    {
        WebSocketTransport transport = Transport();

        (Task<SendOutcome> send, ServerConnection connection) = await SendOneReadByServerAsync(transport);
        await connection.CloseAsync(WebSocketCloseStatus.PolicyViolation, "token expired", Guard);
        SendOutcome outcome = await send.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(outcome.Detail, Does.Contain("1008").And.Contain("token expired"));
            Assert.That(_log.Count(RefusedEventId), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Headers_and_a_fresh_Authorization_value_go_out_on_each_upgrade()
    {
        int tokens = 0;
        WebSocketTransport transport = Transport(o =>
        {
            o.Headers["X-User-ID"] = "user-7";
            o.Headers["X-User-Group"] = "android";
            o.AuthorizationProvider = _ => ValueTask.FromResult($"Bearer token-{Interlocked.Increment(ref tokens)}");
        });

        // Two batches on the first connection, then it drops with a third in flight.
        Task<SendOutcome> first = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard);
        ServerConnection firstConnection = await _server.NextConnectionAsync(Guard);
        await firstConnection.AckAsync(await firstConnection.NextMessageAsync(Guard), Guard);
        await first.WaitAsync(Guard);
        Task<SendOutcome> second = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard);
        await firstConnection.AckAsync(await firstConnection.NextMessageAsync(Guard), Guard);
        await second.WaitAsync(Guard);
        int tokensForOneConnection = Volatile.Read(ref tokens);
        Task<SendOutcome> dropped = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(3)], Guard);
        await firstConnection.NextMessageAsync(Guard);
        firstConnection.Drop();
        await dropped.WaitAsync(Guard);

        _time.Advance(ReconnectMaxDelay);
        Task<SendOutcome> afterReconnect = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(4)], Guard);
        ServerConnection secondConnection = await _server.NextConnectionAsync(Guard);
        await secondConnection.AckAsync(await secondConnection.NextMessageAsync(Guard), Guard);
        SendOutcome outcome = await afterReconnect.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(firstConnection.Headers["X-User-ID"], Is.EqualTo("user-7"));
            Assert.That(firstConnection.Headers["X-User-Group"], Is.EqualTo("android"));
            Assert.That(firstConnection.Headers["Authorization"], Is.EqualTo("Bearer token-1"));
            Assert.That(tokensForOneConnection, Is.EqualTo(1), "asked once per connection, not per batch");
            Assert.That(secondConnection.Headers["X-User-ID"], Is.EqualTo("user-7"));
            Assert.That(secondConnection.Headers["Authorization"], Is.EqualTo("Bearer token-2"), "a new connection asks again");
            Assert.That(outcome, Is.EqualTo(SendOutcome.Acknowledged));
        }
    }

    [Test]
    public async Task UseTextFrames_sends_Raccoon_JSON_in_text_frames_and_reads_JSON_acks()
    {
        WebSocketTransport transport = Transport(o => o.WebSocket.UseTextFrames = true);
        var requestGuid = Guid.NewGuid();
        EventEnvelope[] batch = [Envelopes.Make(1), Envelopes.Make(2)];

        Task<SendOutcome> send = transport.SendAsync(requestGuid, batch, Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        ServerMessage message = await connection.NextMessageAsync(Guard);

        // Answered as the collector answers a text frame: JSON in a text frame.
        await connection.AckAsync(message, Guard);
        SendOutcome outcome = await send.WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(message.Type, Is.EqualTo(WebSocketMessageType.Text));
            Assert.That(message.Request.ReqGuid, Is.EqualTo(requestGuid.ToString()));
            Assert.That(message.Request.Events[1].EventBytes.ToByteArray(), Is.EqualTo(batch[1].Bytes));
            Assert.That(outcome, Is.EqualTo(SendOutcome.Acknowledged));
        }
    }

    // The connection is refused, not the batch: never Rejected (split, maybe dead-lettered), so its events are retried;
    // a 4xx says the deployment is wrong (FailureClassifier).
    [TestCase(401, "Unauthorized")]
    [TestCase(403, "Unauthorized")]
    [TestCase(429, "Throttled")]
    [TestCase(503, "ServerError")]
    [TestCase(404, "Misconfigured")]
    [TestCase(400, "Misconfigured")]
    public async Task Upgrade_answered_with_an_HTTP_error_fails_the_batch_with_a_transient_kind_and_the_Retry_After(int status, string expected)
    {
        _server.UpgradeStatus = status;
        WebSocketTransport transport = Transport();

        SendOutcome outcome = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Result.ToString(), Is.EqualTo(expected));
            Assert.That(outcome.StatusCode, Is.EqualTo(status));
            Assert.That(outcome.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(_log.Count(ConnectFailedEventId), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Dispose_fails_the_batches_in_flight_and_later_sends()
    {
        WebSocketTransport transport = Transport();

        (Task<SendOutcome> send, ServerConnection connection) = await SendOneReadByServerAsync(transport);
        transport.Dispose();
        SendOutcome inFlight = await send.WaitAsync(Guard);
        SendOutcome afterDispose = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(inFlight.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(inFlight.Detail, Does.Contain("disposed"));
            Assert.That(afterDispose.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(_server.Connections, Is.EqualTo(1));
        }
    }

    private PipelineSettings Settings(Action<ClickstreamOptions>? configure = null)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = _server.Endpoint,
            Transport = ClickstreamTransport.WebSocket,
            TimeProvider = _time,
            LoggerFactory = _log,
        };
        options.WebSocket.AckTimeout = AckTimeout;
        options.WebSocket.ReconnectBaseDelay = ReconnectBaseDelay;
        options.WebSocket.ReconnectMaxDelay = ReconnectMaxDelay;
        configure?.Invoke(options);
        return PipelineSettings.Create(options);
    }

    /// <summary>A transport whose reconnect jitter always draws 0.5: each delay is half its ceiling.</summary>
    /// <summary>Sends one event on a new connection and waits until the server has read it: the batch is in flight.</summary>
    private async Task<(Task<SendOutcome> Send, ServerConnection Connection)> SendOneReadByServerAsync(WebSocketTransport transport)
    {
        Task<SendOutcome> send = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard);
        ServerConnection connection = await _server.NextConnectionAsync(Guard);
        await connection.NextMessageAsync(Guard);
        return (send, connection);
    }

    private WebSocketTransport Transport(Action<ClickstreamOptions>? configure = null)
    {
        var transport = new WebSocketTransport(Settings(configure), new FixedRandom(0.5));
        _transports.Add(transport);
        return transport;
    }
}
