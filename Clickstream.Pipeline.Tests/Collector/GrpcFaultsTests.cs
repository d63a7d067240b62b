using System.Globalization;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Google.Protobuf;
using Grpc.Core;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;
using Status = Clickstream.Raccoon.Status;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>Each fault as a real gRPC client sees it, and as the collector counts it.</summary>
[CancelAfter(30_000)]
public class GrpcFaultsTests : GrpcCollectorTestBase
{
    protected override CollectorOptions CreateOptions() => OnSignalingClock(new CollectorOptions { GrpcPort = 0 });

    [Test]
    public async Task Fault_503_with_retry_after_seconds_carries_it_as_trailers()
    {
        _collector.Faults.FailNext(1, 503, RetryAfter.Seconds(5));

        RpcException failure = await FailAsync("r-1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.Unavailable));
            Assert.That(failure.Trailers.GetValue("retry-after"), Is.EqualTo("5"));
            Assert.That(failure.Trailers.GetValue("grpc-retry-pushback-ms"), Is.EqualTo("5000"));
            Assert.That(_collector.Stats.Faults(FaultKind.ErrorStatus), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Fault_429_with_retry_after_date_carries_the_date_and_the_pushback_from_the_collector_clock()
    {
        DateTimeOffset date = Now.AddSeconds(30);
        _collector.Faults.FailNext(1, Fault.Status(429, RetryAfter.At(date)));

        RpcException failure = await FailAsync("r-1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
            Assert.That(failure.Trailers.GetValue("retry-after"), Is.EqualTo(date.ToString("r", CultureInfo.InvariantCulture)));
            Assert.That(failure.Trailers.GetValue("grpc-retry-pushback-ms"), Is.EqualTo("30000"));
        }
    }

    [Test]
    public async Task Fault_500_with_retry_after_is_an_ok_call_with_status_error_and_the_trailers()
    {
        _collector.Faults.FailNext(1, 500, RetryAfter.Seconds(1));

        using AsyncUnaryCall<SendEventResponse> call = _grpc.SendEventAsync(Batch("r-1", pageViews: 1), Identity("user-1"), cancellationToken: Guard());
        SendEventResponse answer = await call;

        using (Assert.EnterMultipleScope())
        {
            Assert.That((answer.Status, answer.Code), Is.EqualTo((Status.Error, Code.InternalError)));
            Assert.That(call.GetTrailers().GetValue("grpc-retry-pushback-ms"), Is.EqualTo("1000"));
        }
    }

    [Test]
    public async Task SoftError_is_an_ok_call_with_status_error_and_internal_error_code()
    {
        _collector.Faults.FailNext(1, Fault.SoftError);

        SendEventResponse answer = await _grpc.SendEventAsync(Batch("r-1", pageViews: 1), Identity("user-1"), cancellationToken: Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That((answer.Status, answer.Code), Is.EqualTo((Status.Error, Code.InternalError)));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That(_collector.Stats.Faults(FaultKind.SoftError), Is.EqualTo(1));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ConnectionReset_fails_the_call_unavailable_and_the_next_call_reconnects()
    {
        _collector.Faults.FailNext(1, Fault.ConnectionReset);

        RpcException failure = await FailAsync("r-1");
        SendEventResponse next = await _grpc.SendEventAsync(
            Batch("r-2", pageViews: 1), new CallOptions(Identity("user-1"), cancellationToken: Guard()).WithWaitForReady());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.Unavailable));
            Assert.That(next.Data["req_guid"], Is.EqualTo("r-2"));
            Assert.That(_collector.Stats.Faults(FaultKind.ConnectionReset), Is.EqualTo(1));
            Assert.That(_collector.Stats.RequestIds(), Is.EqualTo(new[] { "r-2" }));
        }
    }

    [Test]
    public async Task TruncatedResponse_ends_the_message_short_and_the_call_fails_internal()
    {
        _collector.Faults.FailNext(1, Fault.TruncatedResponse);

        RpcException failure = await FailAsync("r-1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.Internal));
            Assert.That(_collector.Stats.Faults(FaultKind.TruncatedResponse), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task MalformedResponse_is_a_message_the_client_cannot_deserialize()
    {
        _collector.Faults.FailNext(1, Fault.MalformedResponse);

        RpcException failure = await FailAsync("r-1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure.StatusCode, Is.Not.EqualTo(StatusCode.OK));
            Assert.That(failure.Status.DebugException, Is.InstanceOf<InvalidProtocolBufferException>());
            Assert.That(_collector.Stats.Faults(FaultKind.MalformedResponse), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Delay_is_a_slow_ack_on_the_collector_clock()
    {
        _collector.Faults.Delay = TimeSpan.FromSeconds(3);

        using AsyncUnaryCall<SendEventResponse> call = _grpc.SendEventAsync(Batch("slow", pageViews: 1), Identity("user-1"), cancellationToken: Guard());
        await _time.TimerCreated.WaitAsync(Guard());
        Assert.That(call.ResponseAsync.IsCompleted, Is.False);

        _time.Advance(TimeSpan.FromSeconds(3));
        SendEventResponse answer = await call;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Data["req_guid"], Is.EqualTo("slow"));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds() + 3));
            Assert.That(_collector.Stats.Faults(FaultKind.DelayedAnswer), Is.EqualTo(1));
        }
    }

    private async Task<RpcException> FailAsync(string requestGuid)
    {
        RpcException? failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await _grpc.SendEventAsync(Batch(requestGuid, pageViews: 1), Identity("user-1"), cancellationToken: Guard()));
        return failure!;
    }
}
