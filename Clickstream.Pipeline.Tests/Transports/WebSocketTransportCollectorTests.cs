using System.Net.WebSockets;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Transports;

/// <summary>
/// The WebSocket transport against the real <see cref="RaccoonCollector"/> on loopback: its acks, its refusal of a
/// second connection of one identity (frame, then close 1008 without waiting for the client), and its drops.
/// </summary>
[CancelAfter(30_000)]
public class WebSocketTransportCollectorTests
{
    private const int RefusedEventId = 23;
    private static readonly TimeSpan ReconnectMaxDelay = TimeSpan.FromSeconds(8);

    private readonly List<WebSocketTransport> _transports = [];
    private RaccoonCollector _collector = null!;
    private FakeTimeProvider _time = null!;
    private RecordingLoggerFactory _log = null!;

    private static CancellationToken Guard => TestContext.CurrentContext.CancellationToken;

    [SetUp]
    public async Task StartCollector()
    {
        _collector = await RaccoonCollector.StartAsync(new CollectorOptions());
        _time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_790_000_000));
        _log = new RecordingLoggerFactory();
    }

    [TearDown]
    public async Task StopCollector()
    {
        foreach (WebSocketTransport transport in _transports)
        {
            transport.Dispose();
        }

        await _collector.DisposeAsync();
        _log.Dispose();
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Batches_in_flight_together_are_acked_by_the_collector_with_the_identity_of_the_upgrade(bool textFrames)
    {
        WebSocketTransport transport = Transport("user-1", o =>
        {
            o.WebSocket.UseTextFrames = textFrames;
            o.Headers["X-User-Group"] = "android";
            o.AuthorizationProvider = _ => ValueTask.FromResult("Bearer t-1");
        });
        Guid[] guids = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];

        var sends = new Task<SendOutcome>[guids.Length];
        for (int i = 0; i < guids.Length; i++)
        {
            sends[i] = transport.SendAsync(guids[i], [Envelopes.Make(i)], Guard);
        }

        SendOutcome[] outcomes = await Task.WhenAll(sends).WaitAsync(Guard);
        IReadOnlyList<ReceivedRequest> received = _collector.Stats.ReceivedRequests();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcomes, Is.All.EqualTo(SendOutcome.Acknowledged));
            Assert.That(received.Select(r => r.RequestGuid), Is.EquivalentTo(guids.Select(g => g.ToString())));
            Assert.That(
                received.Select(r => (r.Protocol, r.UserId, r.UserGroup, r.Authorization, r.EventCount)),
                Is.All.EqualTo((CollectorProtocol.WebSocket, "user-1", "android", "Bearer t-1", 1)));
            Assert.That(_collector.Stats.OpenWebSocketConnections, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Second_connection_of_one_identity_is_refused_logged_once_and_gets_in_once_the_first_leaves()
    {
        using var holder = new ClientWebSocket();
        holder.Options.SetRequestHeader("X-User-ID", "user-1");
        await holder.ConnectAsync(_collector.WebSocketEndpoint, Guard);
        WebSocketTransport transport = Transport("user-1");

        SendOutcome refused = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard).WaitAsync(Guard);
        _time.Advance(ReconnectMaxDelay);
        SendOutcome refusedAgain = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard).WaitAsync(Guard);

        // The collector lists a connection as gone before it answers its close.
        await holder.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Guard);
        _time.Advance(ReconnectMaxDelay);
        SendOutcome acked = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(3)], Guard).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(refused.Result, Is.EqualTo(SendResult.NetworkError));
            Assert.That(refused.Detail, Does.Contain("MaxUserLimitReached"));
            Assert.That(refusedAgain.Detail, Does.Contain("MaxUserLimitReached"));
            Assert.That(acked, Is.EqualTo(SendOutcome.Acknowledged));
            Assert.That(_collector.Stats.RejectedWebSocketConnections, Is.EqualTo(2));
            Assert.That(_log.Count(RefusedEventId), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Collector_dropping_the_connection_fails_the_batches_in_flight_and_the_transport_reconnects()
    {
        WebSocketTransport transport = Transport("user-1");
        _collector.Faults.WithholdResponses = true;

        Task<SendOutcome> sendA = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(1)], Guard);
        Task<SendOutcome> sendB = transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(2)], Guard);
        await _collector.WaitForEventsAsync(2, Guard);
        int droppedConnections = _collector.Faults.DropWebSocketConnections();
        SendOutcome[] dropped = await Task.WhenAll(sendA, sendB).WaitAsync(Guard);

        _collector.Faults.WithholdResponses = false;
        _time.Advance(ReconnectMaxDelay);
        SendOutcome afterReconnect = await transport.SendAsync(Guid.NewGuid(), [Envelopes.Make(3)], Guard).WaitAsync(Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(droppedConnections, Is.EqualTo(1));
            Assert.That(dropped.Select(o => o.Result), Is.All.EqualTo(SendResult.NetworkError));
            Assert.That(afterReconnect, Is.EqualTo(SendOutcome.Acknowledged));
        }
    }

    private WebSocketTransport Transport(string userId, Action<ClickstreamOptions>? configure = null)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = _collector.WebSocketEndpoint,
            Transport = ClickstreamTransport.WebSocket,
            TimeProvider = _time,
            LoggerFactory = _log,
        };
        options.Headers["X-User-ID"] = userId;
        options.WebSocket.ReconnectMaxDelay = ReconnectMaxDelay;
        configure?.Invoke(options);
        var transport = new WebSocketTransport(PipelineSettings.Create(options), new Random(7));
        _transports.Add(transport);
        return transport;
    }
}
