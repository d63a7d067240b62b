using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class DeliveryTests : PipelineTestBase
{

    [Test]
    public async Task TrackAsync_QoS1_event_is_in_the_store_file_when_it_completes()
    {
        var pipeline = Harness.Create();
        pipeline.Pause();

        // Many at once, so that they share group commits: the last group is what a race would miss.
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => pipeline.TrackAsync(SampleEvents.PageView(i)).AsTask()));

        Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Has.Count.EqualTo(500));
    }

    [Test]
    public async Task Flush_delivers_every_event_tracked_before_it_with_its_bytes_and_type()
    {
        var pipeline = Harness.Create(o => o.InstantEventTypes.Add("Click"));
        var sent = new List<IMessage>();
        for (var i = 0; i < 1000; i++)
        {
            var message = SampleEvents.Mixed(i);
            sent.Add(message);
            await pipeline.TrackAsync(message);
        }

        await pipeline.FlushAsync(Harness.Guard);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(sent.Select(PipelineHarness.Payload)));
            Assert.That(Harness.Collector.Stats.EventsByType()["click"], Is.EqualTo(300));
            Assert.That(Harness.Collector.Stats.EventsByType()["pageview"], Is.EqualTo(500));
            Assert.That(stats.EventsAcknowledged, Is.EqualTo(1000));
            Assert.That(stats.InstantEventsTracked, Is.EqualTo(300));
            Assert.That(stats.DurableEventsTracked, Is.EqualTo(700));
            Assert.That(stats.EventsStored, Is.EqualTo(700));
            Assert.That(stats.EventsPendingOnDisk, Is.Zero);
            Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.Empty, "acknowledged events are deleted");
        }
    }

    [Test]
    public async Task Flush_does_not_wait_for_events_tracked_after_it()
    {
        // Event 2's request never gets an answer: a flush that waited for it would never complete.
        var blocked = PipelineHarness.Payload(SampleEvents.PageView(2));
        using var gate = new CancellationTokenSource();
        var pipeline = Harness.Create(
            o => o.MaxBatchSize = 1,
            settings => new GatedTransport(new HttpTransport(settings, json: false), blocked, gate.Token));
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        var flush = pipeline.FlushAsync(Harness.Guard);
        await pipeline.TrackAsync(SampleEvents.PageView(2));

        await flush;
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(new[] { PipelineHarness.Payload(SampleEvents.PageView(1)) }));
        Assert.That(pipeline.GetStatistics().EventsAcknowledged, Is.EqualTo(1));
        await gate.CancelAsync();
    }

    /// <summary>Holds back any request that carries the blocked payload until the gate opens; sends the rest.</summary>
    private sealed class GatedTransport(IEventTransport inner, string blockedPayload, CancellationToken gate) : IEventTransport
    {
        public async Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
        {
            if (events.Any(e => Convert.ToBase64String(e.Bytes) == blockedPayload))
            {
                await Task.Delay(Timeout.Infinite, gate).ContinueWith(static _ => { }, TaskScheduler.Default);
                return new SendOutcome(SendResult.NetworkError, Detail: "held back by the test");
            }

            return await inner.SendAsync(requestGuid, events, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }

    [Test]
    public async Task Flush_waits_while_the_network_is_unreachable_and_completes_when_it_is_back()
    {
        var pipeline = Harness.Create();
        pipeline.Pause();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        var flush = pipeline.FlushAsync(Harness.Guard);
        await Harness.WaitAsync(pipeline, s => s.EventsStored == 1);
        Assert.That(flush.IsCompleted, Is.False);

        pipeline.Resume();
        await flush;
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(1));
    }

    [Test]
    public async Task Type_carries_the_event_group_prefix()
    {
        var pipeline = Harness.Create(o => o.EventGroup = "shop");
        await pipeline.TrackAsync(SampleEvents.AddToCart(1));
        await pipeline.FlushAsync(Harness.Guard);

        Assert.That(Harness.Collector.Stats.EventsByType().Keys, Is.EqualTo(new[] { "shop-addtocart" }));
    }

    [Test]
    public async Task Headers_option_does_not_break_delivery()
    {
        var pipeline = Harness.Create(o => o.Headers["X-User-ID"] = "user-1");
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await pipeline.FlushAsync(Harness.Guard);

        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(1));
    }

    [Test]
    public async Task Backlog_larger_than_the_memory_budget_is_held_on_disk_and_all_delivered_once()
    {
        var pipeline = Harness.Create(o =>
        {
            o.MaxBatchSize = 100;
            o.MaxInMemoryStoredEvents = 500;

            // One request at a time, so that arrival order is send order.
            o.MaxConcurrentRequests = 1;
        });
        pipeline.Pause();
        for (var i = 0; i < 3000; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.EventsStored == 3000);
        Assert.That(pipeline.HeldEvents, Is.LessThanOrEqualTo(500), "no more than the budget waits in memory");

        pipeline.Resume();
        await pipeline.FlushAsync(Harness.Guard);
        var received = Harness.ReceivedPayloads();
        Assert.That(received, Has.Count.EqualTo(3000));
        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 3000).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))), "in order, each once");
    }
}
