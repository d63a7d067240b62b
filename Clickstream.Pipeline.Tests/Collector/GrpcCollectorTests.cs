using Clickstream.Collector;
using Clickstream.Raccoon;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;
using Status = Clickstream.Raccoon.Status;

namespace Clickstream.Pipeline.Tests.Collector;

[CancelAfter(30_000)]
public class GrpcCollectorTests : GrpcCollectorTestBase
{
    protected override CollectorOptions CreateOptions() => new() { GrpcPort = 0, TimeProvider = new FakeTimeProvider(Now) };

    [Test]
    public void GrpcAddress_is_an_http_address_on_a_port_of_its_own()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.GrpcAddress!.Scheme, Is.EqualTo("http"));
            Assert.That(_collector.GrpcAddress.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(_collector.GrpcAddress.Port, Is.Not.Zero.And.Not.EqualTo(_collector.BaseAddress.Port));
        }
    }

    [Test]
    public async Task GrpcAddress_is_null_when_grpc_is_off()
    {
        await using RaccoonCollector collector = await RaccoonCollector.StartAsync();

        Assert.That(collector.GrpcAddress, Is.Null);
    }

    [Test]
    public async Task StartAsync_grpc_port_in_use_throws_IOException()
    {
        var options = new CollectorOptions { Port = 0, GrpcPort = _collector.GrpcAddress!.Port };

        Assert.That(async () => await RaccoonCollector.StartAsync(options), Throws.InstanceOf<IOException>());

        // The failed start left nothing behind that stops the next one.
        await using RaccoonCollector other = await RaccoonCollector.StartAsync(new CollectorOptions { GrpcPort = 0 });
        Assert.That(other.GrpcAddress, Is.Not.Null);
    }

    [Test]
    public async Task SendEvent_is_acked_with_its_req_guid_and_recorded()
    {
        SendEventResponse answer = await _grpc.SendEventAsync(
            Batch("grpc-1", pageViews: 2, clicks: 1), Identity("user-1", "ios", "Bearer abc"), cancellationToken: Guard());

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Status, Is.EqualTo(Status.Success));
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("grpc-1"));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds()));
            Assert.That(stats.Requests, Is.EqualTo(1));
            Assert.That(stats.Events, Is.EqualTo(3));
            Assert.That(stats.ReceivedEvents()[2].Type, Is.EqualTo("click"));
            Assert.That(stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.Grpc, "grpc-1", "user-1", "ios", "Bearer abc", EventCount: 3),
            }));
        }
    }

    [Test]
    public async Task SendEvent_without_id_metadata_fails_unknown_like_raccoon()
    {
        RpcException? failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await _grpc.SendEventAsync(Batch("no-id", pageViews: 1), Identity(userId: null, "ios"), cancellationToken: Guard()));

        using (Assert.EnterMultipleScope())
        {
            // Raccoon returns a plain Go error, which grpc-go sends as Unknown with the error's text.
            Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.Unknown));
            Assert.That(failure.Status.Detail, Is.EqualTo("connection id header missing"));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Events, Is.Zero);
        }
    }

    [Test]
    public async Task SendEvent_with_an_empty_id_is_accepted_like_raccoon_in_the_default_group()
    {
        SendEventResponse answer = await _grpc.SendEventAsync(Batch("empty-id", pageViews: 1), Identity(string.Empty), cancellationToken: Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.ReceivedRequests()[0].UserId, Is.Empty);
            Assert.That(_collector.Stats.ReceivedRequests()[0].UserGroup, Is.EqualTo("--default--"));
        }
    }

    [Test]
    public async Task Fault_500_answers_status_error_on_an_ok_call_like_raccoons_failed_publish()
    {
        _collector.Faults.FailNext(1, statusCode: 500);

        SendEventResponse answer = await _grpc.SendEventAsync(Batch("r-1", pageViews: 1), Identity("user-1"), cancellationToken: Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Code, Is.EqualTo(Code.InternalError));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds()));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Events, Is.Zero);
        }
    }

    [TestCase(503, StatusCode.Unavailable)]
    [TestCase(429, StatusCode.ResourceExhausted)]
    [TestCase(400, StatusCode.InvalidArgument)]
    public async Task Fault_other_status_fails_the_call_with_its_grpc_status(int httpStatus, StatusCode expected)
    {
        _collector.Faults.AlwaysFail(httpStatus);

        RpcException? failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await _grpc.SendEventAsync(Batch("r-1", pageViews: 1), Identity("user-1"), cancellationToken: Guard()));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure!.StatusCode, Is.EqualTo(expected));
            Assert.That(failure.Status.Detail, Does.Contain("injected fault"));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task WithholdResponses_holds_the_call_until_switched_off()
    {
        _collector.Faults.WithholdResponses = true;

        using AsyncUnaryCall<SendEventResponse> call = _grpc.SendEventAsync(Batch("held", pageViews: 2), Identity("user-1"), cancellationToken: Guard());
        await _collector.WaitForEventsAsync(2, Guard());
        Assert.That(call.ResponseAsync.IsCompleted, Is.False, "counted, not answered");

        _collector.Faults.WithholdResponses = false;
        SendEventResponse answer = await call;

        Assert.That(answer.Data["req_guid"], Is.EqualTo("held"));
    }

    [Test]
    public async Task WithholdResponses_held_call_fails_when_the_collector_stops()
    {
        _collector.Faults.WithholdResponses = true;
        using AsyncUnaryCall<SendEventResponse> call = _grpc.SendEventAsync(Batch("held", pageViews: 1), Identity("user-1"), cancellationToken: Guard());
        await _collector.WaitForEventsAsync(1, Guard());

        await _collector.DisposeAsync();

        Assert.That(async () => await call, Throws.InstanceOf<RpcException>());
    }
}
