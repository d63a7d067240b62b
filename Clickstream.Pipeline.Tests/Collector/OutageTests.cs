using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>
/// The collector going down (ports closed, connections reset) and coming back on the same ports, by hand and on a
/// schedule on a fake clock, as real clients see it.
/// </summary>
[CancelAfter(30_000)]
public class OutageTests : CollectorTestBase
{
    protected override CollectorOptions CreateOptions() => OnSignalingClock(new CollectorOptions { GrpcPort = 0 });

    [Test]
    public async Task GoDown_refuses_connects_on_every_protocol_and_ping()
    {
        _collector.Faults.GoDown();

        using var client = new HttpClient();
        using GrpcChannel channel = Channel(_collector.GrpcAddress!);
        var grpc = new EventService.EventServiceClient(channel);
        using var socket = new ClientWebSocket();

        HttpRequestException? ping = await Assert.ThrowsAsync<HttpRequestException>(async () => await client.GetAsync(new Uri(_collector.BaseAddress, "ping"), Guard()));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.Faults.IsDown, Is.True);
            Assert.That(ping!.HttpRequestError, Is.EqualTo(HttpRequestError.ConnectionError));
            Assert.That(ping.InnerException, Is.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionRefused));
            Assert.That(async () => await PostProtoAsync(client, _collector.EventsEndpoint, Batch("r-1", pageViews: 1)), Throws.InstanceOf<HttpRequestException>());
            Assert.That(async () => await socket.ConnectAsync(_collector.WebSocketEndpoint, Guard()), Throws.InstanceOf<WebSocketException>());
            Assert.That(
                async () => await grpc.SendEventAsync(Batch("g-1", pageViews: 1), Identity("user-1"), cancellationToken: Guard()),
                Throws.InstanceOf<RpcException>().With.Property(nameof(RpcException.StatusCode)).EqualTo(StatusCode.Unavailable));
            Assert.That(_collector.Stats.Requests, Is.Zero, "nothing arrives");
            Assert.That(_collector.Stats.Faults(FaultKind.Outage), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ComeBack_answers_again_on_the_same_ports()
    {
        Uri baseAddress = _collector.BaseAddress;
        _collector.Faults.GoDown();
        Assert.That(await IsReachableAsync(), Is.False);

        _collector.Faults.ComeBack();

        using var client = new HttpClient();
        using HttpResponseMessage posted = await PostProtoAsync(client, _collector.EventsEndpoint, Batch("r-1", pageViews: 1));
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        await SendAsync(socket, Batch("w-1", pageViews: 1));
        (_, SendEventResponse wsAnswer) = await ReceiveAnswerAsync(socket);
        using GrpcChannel channel = Channel(_collector.GrpcAddress!);
        SendEventResponse grpcAnswer = await new EventService.EventServiceClient(channel)
            .SendEventAsync(Batch("g-1", pageViews: 1), Identity("user-1"), cancellationToken: Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.Faults.IsDown, Is.False);
            Assert.That(_collector.BaseAddress, Is.EqualTo(baseAddress));
            Assert.That(await IsReachableAsync(), Is.True);
            Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(wsAnswer.Code, Is.EqualTo(Code.Ok));
            Assert.That(grpcAnswer.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.RequestIds(), Is.EqualTo(new[] { "r-1", "w-1", "g-1" }));
        }
    }

    [Test]
    public async Task GoDown_resets_open_connections_and_the_answers_in_flight_are_lost()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        using var client = new HttpClient();
        _collector.Faults.WithholdResponses = true;
        Task<HttpResponseMessage> held = PostProtoAsync(client, _collector.EventsEndpoint, Batch("held", pageViews: 1));
        await _collector.WaitForEventsAsync(1, Guard());
        Task<(WebSocketMessageType, byte[])> receive = ReceiveMessageAsync(socket);

        _collector.Faults.GoDown();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(async () => await held, Throws.InstanceOf<HttpRequestException>());
            Assert.That(async () => await receive, Throws.InstanceOf<WebSocketException>());
            Assert.That(_collector.Stats.Faults(FaultKind.ConnectionDroppedByOutage), Is.EqualTo(2));
            Assert.That(_collector.Stats.Faults(FaultKind.Outage), Is.EqualTo(1));
        }
    }

    [Test]
    public void GoDown_and_ComeBack_twice_change_nothing_the_second_time()
    {
        _collector.Faults.GoDown();
        _collector.Faults.GoDown();
        _collector.Faults.ComeBack();
        _collector.Faults.ComeBack();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.Faults.IsDown, Is.False);
            Assert.That(_collector.Stats.Faults(FaultKind.Outage), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ScheduleOutages_goes_down_for_the_duration_every_period_on_the_collector_clock()
    {
        _collector.Faults.ScheduleOutages(new OutageSchedule(period: TimeSpan.FromSeconds(60), duration: TimeSpan.FromSeconds(10)));

        var reachable = new List<(int Second, bool Reachable)>();
        int second = 0;
        foreach (int step in new[] { 0, 59, 1, 9, 1, 49, 1, 10 })
        {
            _time.Advance(TimeSpan.FromSeconds(step));
            second += step;
            reachable.Add((second, await IsReachableAsync()));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reachable, Is.EqualTo(new[]
            {
                (0, true), (59, true), (60, false), (69, false), (70, true), (119, true), (120, false), (130, true),
            }));
            Assert.That(_collector.Stats.Faults(FaultKind.Outage), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task ScheduleOutages_null_stops_the_schedule_and_brings_the_collector_back()
    {
        _collector.Faults.ScheduleOutages(new OutageSchedule(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(65));
        Assert.That(_collector.Faults.IsDown, Is.True);

        _collector.Faults.ScheduleOutages(null);
        _time.Advance(TimeSpan.FromSeconds(120));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.Faults.IsDown, Is.False);
            Assert.That(await IsReachableAsync(), Is.True);
            Assert.That(_collector.Stats.Faults(FaultKind.Outage), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task DisposeAsync_while_down_stops_the_collector()
    {
        _collector.Faults.GoDown();

        await _collector.DisposeAsync().AsTask().WaitAsync(Guard());

        Assert.That(_collector.Faults.IsDown, Is.True, "stopped as it was");
    }

    [TestCase(0, 10)]
    [TestCase(10, 0)]
    [TestCase(10, 10)]
    [TestCase(10, 11)]
    public void OutageSchedule_that_never_comes_back_or_never_goes_down_throws(int periodSeconds, int durationSeconds)
    {
        Assert.That(
            () => new OutageSchedule(TimeSpan.FromSeconds(periodSeconds), TimeSpan.FromSeconds(durationSeconds)),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>A <c>GET /ping</c> on a connection of its own, as a reachability probe makes it.</summary>
    private async Task<bool> IsReachableAsync()
    {
        using var client = new HttpClient();
        try
        {
            using HttpResponseMessage pong = await client.GetAsync(new Uri(_collector.BaseAddress, "ping"), Guard());
            return await pong.Content.ReadAsStringAsync(Guard()) == "pong";
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
