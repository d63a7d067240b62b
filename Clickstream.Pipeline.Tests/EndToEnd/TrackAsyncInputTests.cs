using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class TrackAsyncInputTests : PipelineTestBase
{

    [Test]
    public async Task Null_message_throws_ArgumentNullException()
    {
        var pipeline = Harness.Create();
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await pipeline.TrackAsync(null!));
    }

    [Test]
    public async Task Event_over_MaxEventBytes_throws_naming_the_limit()
    {
        var pipeline = Harness.Create(o => o.MaxEventBytes = 50);
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await pipeline.TrackAsync(SampleEvents.PageView(1)));
        Assert.That(ex!.Message, Does.Contain("MaxEventBytes").And.Contain("50"));
    }

    [Test]
    public async Task TrackAsync_and_FlushAsync_after_dispose_throw_ObjectDisposedException()
    {
        var pipeline = Harness.Create();
        await pipeline.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pipeline.TrackAsync(SampleEvents.PageView(1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pipeline.FlushAsync());
        await pipeline.DisposeAsync();
    }

    [Test]
    public async Task Cancelled_token_throws_and_the_event_is_neither_stored_nor_sent()
    {
        var pipeline = Harness.Create(o => o.InstantEventTypes.Add("Click"));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAsync<TaskCanceledException>(async () => await pipeline.TrackAsync(SampleEvents.PageView(1), cts.Token));
        await Assert.ThrowsAsync<TaskCanceledException>(async () => await pipeline.TrackAsync(SampleEvents.Click(1), cts.Token));
        await pipeline.TrackAsync(SampleEvents.PageView(2));
        await pipeline.FlushAsync(Harness.Guard);

        var stats = pipeline.GetStatistics();
        Assert.That(stats.EventsStored, Is.EqualTo(1));
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(new[] { PipelineHarness.Payload(SampleEvents.PageView(2)) }));
    }

    [Test]
    public async Task QoS0_overflow_is_dropped_and_counted_without_blocking()
    {
        var pipeline = Harness.Create(o =>
        {
            o.InstantEventTypes.Add("Click");
            o.MaxQueuedEvents = 5;
        });
        pipeline.Pause();
        for (var i = 0; i < 8; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        Assert.That(pipeline.GetStatistics().EventsDroppedOverflow, Is.EqualTo(3));
        pipeline.Resume();
        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Enumerable.Range(0, 5).Select(i => PipelineHarness.Payload(SampleEvents.Click(i)))));
    }

    [Test]
    public async Task Message_changed_after_TrackAsync_is_sent_as_it_was_tracked()
    {
        var pipeline = Harness.Create(o => o.InstantEventTypes.Add("Click"));
        var click = SampleEvents.Click(1);
        var original = PipelineHarness.Payload(click);
        await pipeline.TrackAsync(click);
        click.ElementId = "changed";
        await pipeline.FlushAsync(Harness.Guard);

        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(new[] { original }));
    }
}
