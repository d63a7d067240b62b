using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class BatchingTests : PipelineTestBase
{

    private List<int> BatchSizes() =>
        Harness.Collector.Stats.ReceivedEvents().GroupBy(e => e.RequestGuid).Select(g => g.Count()).ToList();

    [Test]
    public async Task Batch_is_cut_at_MaxBatchSize_events()
    {
        var pipeline = Harness.Create(o => o.MaxBatchSize = 10);
        for (var i = 0; i < 30; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        // No flush and no clock advance: only the count can cut these batches.
        await Harness.Collector.WaitForEventsAsync(30, Harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 10, 10, 10 }));
    }

    [Test]
    public async Task Batch_is_cut_before_MaxBatchBytes()
    {
        var one = SampleEvents.PageView(0).CalculateSize();
        var pipeline = Harness.Create(o =>
        {
            o.MaxBatchSize = 100;
            o.MaxBatchBytes = (one + 20) * 3;
        });
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(0));
        }

        await Harness.Collector.WaitForEventsAsync(9, Harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 3, 3, 3 }), "the 10th waits for a fourth batch");
    }

    [Test]
    public async Task Batch_is_cut_when_MaxTimeBetweenTwoBatches_passed()
    {
        var delay = TimeSpan.FromSeconds(10);
        var pipeline = Harness.Create(o =>
        {
            o.MaxBatchSize = 100;
            o.MaxTimeBetweenTwoBatches = delay;
        });
        for (var i = 0; i < 3; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.EventsStored == 3);
        Harness.Time.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.That(pipeline.GetStatistics().BatchesSent, Is.Zero);

        Harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Harness.Collector.WaitForEventsAsync(3, Harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public async Task Pause_stops_batching_and_Resume_sends_what_waited()
    {
        var pipeline = Harness.Create(o => o.MaxBatchSize = 10);
        pipeline.Pause();
        for (var i = 0; i < 30; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.EventsStored == 30);
        Harness.Time.Advance(TimeSpan.FromMinutes(5));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(pipeline.HeldEvents, Is.EqualTo(30));
            Assert.That(pipeline.GetStatistics().BatchesSent, Is.Zero);
        }

        pipeline.Resume();
        await Harness.Collector.WaitForEventsAsync(30, Harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 10, 10, 10 }));
    }

    [Test]
    public async Task QoS0_batch_is_cut_at_MaxBatchSize_events_without_waiting_for_the_clock()
    {
        var pipeline = Harness.Create(o =>
        {
            o.InstantEventTypes.Add("Click");
            o.MaxBatchSize = 10;
        });
        await pipeline.TrackAsync(SampleEvents.Click(0));
        await pipeline.FlushAsync(Harness.Guard);

        // After a read the ingress lingers on the (fake) clock, which stands still: only a full batch's worth of
        // events wakes it, and the scheduler cuts them by count.
        for (var i = 1; i <= 20; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await Harness.Collector.WaitForEventsAsync(21, Harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 1, 10, 10 }));
    }

    [Test]
    public async Task QoS0_batch_is_cut_when_MaxTimeBetweenTwoBatches_passed_since_TrackAsync()
    {
        var delay = TimeSpan.FromSeconds(10);
        var pipeline = Harness.Create(o =>
        {
            o.InstantEventTypes.Add("Click");
            o.MaxBatchSize = 100;
            o.MaxTimeBetweenTwoBatches = delay;
        });
        for (var i = 0; i < 3; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        Harness.Time.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.That(pipeline.GetStatistics().BatchesSent, Is.Zero);

        Harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Harness.Collector.WaitForEventsAsync(3, Harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 3 }), "the events that lingered in the ingress join the first one's batch");
    }

    [Test]
    public async Task QoS0_events_wait_in_memory_while_paused()
    {
        var pipeline = Harness.Create(o => o.InstantEventTypes.Add("Click"));
        pipeline.Pause();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        var flush = pipeline.FlushAsync(Harness.Guard);
        Assert.That(StoreFile.CommittedEventIds(Harness.Folder.StorePath), Is.Empty, "QoS0 is never written to disk");
        pipeline.Resume();
        await flush;
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(5));
    }
}
