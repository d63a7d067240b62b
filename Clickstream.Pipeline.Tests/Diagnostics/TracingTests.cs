using System.Diagnostics;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>The <c>clickstream.send</c> span of each request, read with a real <see cref="ActivityListener"/>.</summary>
public class TracingTests : PipelineTestBase
{
    [TestCase(ClickstreamTransport.Http, "http")]
    [TestCase(ClickstreamTransport.Grpc, "grpc")]
    [TestCase(ClickstreamTransport.WebSocket, "websocket")]
    public async Task Each_request_is_one_client_span_with_its_req_guid_size_transport_and_outcome(ClickstreamTransport transport, string name)
    {
        Harness.Transport = transport;
        var endpoint = Harness.Endpoint(transport);
        using var spans = new SpanRecorder(endpoint.Port);
        var pipeline = Harness.Create(o =>
        {
            o.MaxBatchSize = 4;
            o.Headers["X-User-ID"] = "user-1"; // Raccoon's gRPC handler refuses a call without it.
        });
        for (var i = 0; i < 8; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await pipeline.FlushAsync(Harness.Guard);
        var received = Harness.Collector.Stats.ReceivedEvents().Select(e => e.RequestGuid).Distinct().ToList();
        var recorded = spans.Stopped;
        var eventBytes = SampleEvents.PageView(0).CalculateSize();
        Assert.That(recorded, Has.Count.EqualTo(2));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(recorded.Select(s => s.GetTagItem("clickstream.req_guid")), Is.EquivalentTo(received));
            foreach (var span in recorded)
            {
                Assert.That(span.OperationName, Is.EqualTo("clickstream.send"));
                Assert.That(span.Source.Name, Is.EqualTo("Clickstream.Pipeline"));
                Assert.That(span.Kind, Is.EqualTo(ActivityKind.Client));
                Assert.That(span.GetTagItem("clickstream.batch.events"), Is.EqualTo(4));
                Assert.That((int)span.GetTagItem("clickstream.batch.bytes")!, Is.GreaterThan(4 * eventBytes));
                Assert.That(span.GetTagItem("clickstream.transport"), Is.EqualTo(name));
                Assert.That(span.GetTagItem("server.address"), Is.EqualTo(endpoint.Host));
                Assert.That(span.GetTagItem("clickstream.outcome"), Is.EqualTo("acknowledged"));
                Assert.That(span.GetTagItem("error.type"), Is.Null);
                Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Unset));
            }
        }
    }

    [Test]
    public async Task Failed_request_span_has_the_failure_kind_and_error_status()
    {
        Harness.Collector.Faults.FailNext(1, 503);
        using var spans = new SpanRecorder(Harness.Collector.EventsEndpoint.Port);
        var pipeline = Harness.Create(o => o.MaxBatchSize = 2);
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await pipeline.TrackAsync(SampleEvents.PageView(2));
        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);

        var span = spans.Stopped.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(span.GetTagItem("clickstream.outcome"), Is.EqualTo("server_error"));
            Assert.That(span.GetTagItem("error.type"), Is.EqualTo("server_error"));
            Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(span.GetTagItem("clickstream.batch.events"), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task Without_a_sampling_listener_no_span_is_created_and_delivery_goes_on()
    {
        var created = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Clickstream.Pipeline",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStarted = _ => Interlocked.Increment(ref created),
        };
        ActivitySource.AddActivityListener(listener);
        var pipeline = Harness.Create();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await pipeline.FlushAsync(Harness.Guard);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(created, Is.Zero);
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(1));
        }
    }
}
