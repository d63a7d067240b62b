using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary><see cref="ClickstreamOptions.QueueFullMode"/>: what happens to QoS0 events past <see cref="ClickstreamOptions.MaxQueuedEvents"/>.</summary>
public class QueueFullModeTests : PipelineTestBase
{
    private const int Max = 5;

    private ClickstreamPipeline Create(ClickstreamQueueFullMode mode, TimeSpan? shutdownTimeout = null) => Harness.Create(o =>
    {
        o.InstantEventTypes.Add("Click");
        o.MaxQueuedEvents = Max;
        o.QueueFullMode = mode;
        o.ShutdownTimeout = shutdownTimeout ?? o.ShutdownTimeout;
    });

    private IEnumerable<string> Clicks(params int[] numbers) => numbers.Select(i => PipelineHarness.Payload(SampleEvents.Click(i)));

    [Test]
    public async Task DropOldest_keeps_the_newest_events_and_counts_the_oldest_as_dropped()
    {
        var pipeline = Create(ClickstreamQueueFullMode.DropOldest);
        pipeline.Pause();
        for (var i = 0; i < 8; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        var stats = await Harness.WaitAsync(pipeline, s => s.EventsDroppedOverflow == 3);
        Assert.That(stats.InstantEventsTracked, Is.EqualTo(8), "every call was accepted");

        pipeline.Resume();
        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Clicks(3, 4, 5, 6, 7)));
    }

    [Test]
    public async Task DropOldest_leaves_QoS1_events_alone()
    {
        var pipeline = Create(ClickstreamQueueFullMode.DropOldest);
        pipeline.Pause();
        await pipeline.TrackAsync(SampleEvents.PageView(0));
        for (var i = 0; i < 8; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await Harness.WaitAsync(pipeline, s => s.EventsDroppedOverflow == 3);
        pipeline.Resume();
        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(new[] { PipelineHarness.Payload(SampleEvents.PageView(0)) }.Concat(Clicks(3, 4, 5, 6, 7))));
    }

    [Test]
    public async Task Wait_holds_TrackAsync_until_there_is_room_and_drops_nothing()
    {
        var pipeline = Create(ClickstreamQueueFullMode.Wait);
        pipeline.Pause();
        for (var i = 0; i < Max; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        var waiting = pipeline.TrackAsync(SampleEvents.Click(Max)).AsTask();
        using var cancel = new CancellationTokenSource();
        var cancelled = pipeline.TrackAsync(SampleEvents.Click(99), cancel.Token).AsTask();
        Assert.Multiple(() =>
        {
            Assert.That(waiting.IsCompleted, Is.False, "no room while the batch waits behind the closed gate");
            Assert.That(cancelled.IsCompleted, Is.False);
        });

        await cancel.CancelAsync();
        Assert.That(async () => await cancelled, Throws.InstanceOf<OperationCanceledException>(), "the caller's token ends the wait");

        pipeline.Resume();
        await waiting.WaitAsync(Harness.Guard);
        await pipeline.FlushAsync(Harness.Guard);
        Assert.Multiple(() =>
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Clicks(0, 1, 2, 3, 4, 5)));
            Assert.That(pipeline.GetStatistics().EventsDroppedOverflow, Is.Zero);
        });
    }

    [Test]
    public async Task Wait_ends_with_ObjectDisposedException_when_the_pipeline_is_disposed()
    {
        // No delivery at dispose: the gate stays closed.
        var pipeline = Create(ClickstreamQueueFullMode.Wait, shutdownTimeout: TimeSpan.Zero);
        pipeline.Pause();
        for (var i = 0; i < Max; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        var waiting = pipeline.TrackAsync(SampleEvents.Click(Max)).AsTask();
        await pipeline.DisposeAsync();
        Assert.That(async () => await waiting.WaitAsync(Harness.Guard), Throws.InstanceOf<ObjectDisposedException>());
    }
}
