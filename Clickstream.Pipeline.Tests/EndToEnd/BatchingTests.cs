using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class BatchingTests
{
    private PipelineHarness _harness = null!;

    [SetUp]
    public async Task SetUp() => _harness = await PipelineHarness.StartAsync();

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private List<int> BatchSizes() =>
        _harness.Collector.Stats.ReceivedEvents().GroupBy(e => e.RequestGuid).Select(g => g.Count()).ToList();

    [Test]
    public async Task Batch_is_cut_at_MaxBatchSize_events()
    {
        var pipeline = _harness.Create(o => o.MaxBatchSize = 10);
        for (var i = 0; i < 30; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        // No flush and no clock advance: only the count can cut these batches.
        await _harness.Collector.WaitForEventsAsync(30, _harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 10, 10, 10 }));
    }

    [Test]
    public async Task Batch_is_cut_before_MaxBatchBytes()
    {
        var one = SampleEvents.PageView(0).CalculateSize();
        var pipeline = _harness.Create(o =>
        {
            o.MaxBatchSize = 100;
            o.MaxBatchBytes = (one + 20) * 3;
        });
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(0));
        }

        await _harness.Collector.WaitForEventsAsync(9, _harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 3, 3, 3 }), "the 10th waits for a fourth batch");
    }

    [Test]
    public async Task Batch_is_cut_when_MaxTimeBetweenTwoBatches_passed()
    {
        var delay = TimeSpan.FromSeconds(10);
        var pipeline = _harness.Create(o =>
        {
            o.MaxBatchSize = 100;
            o.MaxTimeBetweenTwoBatches = delay;
        });
        for (var i = 0; i < 3; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await _harness.WaitAsync(pipeline, s => s.EventsStored == 3);
        _harness.Time.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.That(pipeline.GetStatistics().BatchesSent, Is.Zero);

        _harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await _harness.Collector.WaitForEventsAsync(3, _harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public async Task Pause_stops_batching_and_Resume_sends_what_waited()
    {
        var pipeline = _harness.Create(o => o.MaxBatchSize = 10);
        pipeline.Pause();
        for (var i = 0; i < 30; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await _harness.WaitAsync(pipeline, s => s.EventsStored == 30);
        _harness.Time.Advance(TimeSpan.FromMinutes(5));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(pipeline.HeldEvents, Is.EqualTo(30));
            Assert.That(pipeline.GetStatistics().BatchesSent, Is.Zero);
        }

        pipeline.Resume();
        await _harness.Collector.WaitForEventsAsync(30, _harness.Guard);
        Assert.That(BatchSizes(), Is.EqualTo(new[] { 10, 10, 10 }));
    }

    [Test]
    public async Task QoS0_events_wait_in_memory_while_paused()
    {
        var pipeline = _harness.Create(o => o.InstantEventTypes.Add("Click"));
        pipeline.Pause();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        var flush = pipeline.FlushAsync(_harness.Guard);
        Assert.That(StoreFile.CommittedEventIds(_harness.Folder.StorePath), Is.Empty, "QoS0 is never written to disk");
        pipeline.Resume();
        await flush;
        Assert.That(_harness.Collector.Stats.Events, Is.EqualTo(5));
    }
}
