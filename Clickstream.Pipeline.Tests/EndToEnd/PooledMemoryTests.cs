using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// QoS0 envelopes and their payload buffers are pooled and reused as soon as a batch's outcome is applied: these
/// tests fail if one went back to the pool while a request or a retry could still read it.
/// </summary>
public class PooledMemoryTests : PipelineTestBase
{
    [Test]
    public async Task QoS0_payloads_arrive_byte_for_byte_while_envelopes_are_recycled_by_concurrent_producers()
    {
        const int Producers = 4;
        const int PerProducer = 1_500;
        var pipeline = Harness.Create(o =>
        {
            o.InstantEventTypes.Add("Click");
            o.MaxBatchSize = 25;
            o.MaxConcurrentRequests = 4;
            o.MaxQueuedEvents = Producers * PerProducer;
        });
        var messages = Enumerable.Range(0, Producers * PerProducer).Select(i => (IMessage)SampleEvents.Click(i)).ToArray();

        // Producers track while earlier batches are in flight, so envelopes come back and go out again mid-run.
        await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var i = p; i < messages.Length; i += Producers)
            {
                await pipeline.TrackAsync(messages[i]);
            }
        })));
        await pipeline.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(messages.Select(PipelineHarness.Payload)));
            Assert.That(pipeline.GetStatistics().EventsAcknowledged, Is.EqualTo(messages.Length));
        }
    }

    [Test]
    public async Task Retried_QoS1_events_keep_their_bytes_while_the_dropped_QoS0_envelopes_of_their_batch_are_reused()
    {
        var retryBase = TimeSpan.FromSeconds(2);
        Harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Harness.Create(
            o =>
            {
                o.InstantEventTypes.Add("Click");
                o.MaxBatchSize = 10;
                o.RetryBaseDelay = retryBase;
            },
            hooks: new() { Random = FixedRandom.Ceiling });
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);

        // The failed batch's QoS0 envelopes are back in the pool: these reuse them, and are sent and acknowledged.
        for (var i = 100; i < 110; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await Harness.Collector.WaitForEventsAsync(10, Harness.Guard);
        Harness.Time.Advance(retryBase);
        await pipeline.FlushAsync(Harness.Guard);

        var expected = Enumerable.Range(0, 5).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))
            .Concat(Enumerable.Range(100, 10).Select(i => PipelineHarness.Payload(SampleEvents.Click(i))));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(expected));
            Assert.That(pipeline.GetStatistics().EventsDroppedSendFailed, Is.EqualTo(5));
            Assert.That(pipeline.GetStatistics().EventsAcknowledged, Is.EqualTo(15));
        }
    }
}
