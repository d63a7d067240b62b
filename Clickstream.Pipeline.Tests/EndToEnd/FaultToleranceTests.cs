using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// Issue 4's proof per fault: with the collector failing half of the requests in a given way, every QoS1
/// event arrives, duplicates stay within the failed requests' batches, and the request count stays bounded.
/// </summary>
public class FaultToleranceTests : PipelineTestBase
{
    private const int Events = 100;
    private const int BatchSize = 10;
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(4);

    private static IEnumerable<TestCaseData> Faults()
    {
        yield return new TestCaseData("500", Fault.Status(500));
        yield return new TestCaseData("503 + Retry-After seconds", Fault.Status(503, RetryAfter.Seconds(2)));
        yield return new TestCaseData("429 + Retry-After date", Fault.Status(429, RetryAfter.DateIn(TimeSpan.FromSeconds(2))));
        yield return new TestCaseData("200 + STATUS_ERROR", Fault.SoftError);
        yield return new TestCaseData("connection reset", Fault.ConnectionReset);
        yield return new TestCaseData("answer lost after accepting", Fault.ConnectionReset.AfterAccepting());
        yield return new TestCaseData("truncated response", Fault.TruncatedResponse);
        yield return new TestCaseData("malformed response", Fault.MalformedResponse);
    }

    [TestCaseSource(nameof(Faults))]
    public async Task Every_QoS1_event_arrives_through_half_failing_requests(string name, Fault fault)
    {
        Harness.Collector.Faults.FailRandomly(0.5, fault, seed: 7);
        await RunAsync(ClickstreamTransport.Http, name);
    }

    [Test]
    public async Task Every_QoS1_event_arrives_when_WebSocket_connections_drop_mid_batch()
    {
        Harness.Collector.Faults.FailRandomly(0.3, Fault.ConnectionReset, seed: 11);
        await RunAsync(ClickstreamTransport.WebSocket, "WebSocket dropped mid-batch");
    }

    [Test]
    public async Task Every_QoS1_event_arrives_across_an_outage()
    {
        Harness.Collector.Faults.GoDown();
        var pipeline = Create(ClickstreamTransport.Http);
        var track = TrackAsync(pipeline);
        await Harness.WaitAsync(pipeline, s => !s.IsReachable);
        await track;
        Harness.Collector.Faults.ComeBack();
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);
        AssertAllArrived(pipeline, "outage");
    }

    private ClickstreamPipeline Create(ClickstreamTransport transport)
    {
        Harness.Transport = transport;
        return Harness.Create(
            o =>
            {
                o.MaxBatchSize = BatchSize;
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.RetryMaxDelay = RetryMax;
                o.RequestTimeout = TimeSpan.FromSeconds(5);
                o.WebSocket.AckTimeout = TimeSpan.FromSeconds(5);
                o.WebSocket.ReconnectMaxDelay = RetryMax;
            },
            hooks: new() { Random = new Random(3) });
    }

    private static async Task TrackAsync(ClickstreamPipeline pipeline)
    {
        for (var i = 0; i < Events; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }
    }

    private async Task RunAsync(ClickstreamTransport transport, string name)
    {
        var pipeline = Create(transport);
        await TrackAsync(pipeline);
        await Harness.FlushDrivingTimeAsync(pipeline, RetryMax);
        AssertAllArrived(pipeline, name);
    }

    private void AssertAllArrived(ClickstreamPipeline pipeline, string name)
    {
        var received = Harness.ReceivedPayloads();
        var expected = Enumerable.Range(0, Events).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i))).ToHashSet();
        var stats = pipeline.GetStatistics();
        var duplicates = received.Count - received.Distinct().Count();
        TestContext.Out.WriteLine($"{name}: {stats.BatchesSent} requests, {stats.BatchesFailed} failed, {duplicates} duplicates, {stats.ReachabilityProbes} probes");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(received.ToHashSet(), Is.EquivalentTo(expected), "every QoS1 event arrives");
            Assert.That(stats.EventsPendingOnDisk, Is.Zero);

            // A duplicate needs a request whose events were accepted and whose ack was lost: a failed batch.
            Assert.That(duplicates, Is.LessThanOrEqualTo(stats.BatchesFailed * BatchSize), "duplicates stay within the failed batches");

            // No hot loop: each batch goes out once, plus once per failure, and nothing else.
            Assert.That(stats.BatchesSent, Is.EqualTo(stats.BatchesAcknowledged + stats.BatchesFailed));
            Assert.That(stats.BatchesSent, Is.LessThanOrEqualTo(Events / BatchSize * 8), "the request count stays bounded");
        }
    }
}
