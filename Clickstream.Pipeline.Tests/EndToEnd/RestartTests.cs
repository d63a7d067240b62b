using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

public class RestartTests : PipelineTestBase
{

    [Test]
    public async Task Pipeline_disposed_without_flushing_delivers_its_stored_events_after_Create_again()
    {
        var first = Harness.Create();
        first.Pause();
        for (var i = 0; i < 20; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        await first.DisposeAsync();
        Assert.That(Harness.Collector.Stats.Events, Is.Zero);

        var second = Harness.Create();
        Assert.That(second.GetStatistics().EventsRecovered, Is.EqualTo(20));
        await second.FlushAsync(Harness.Guard);

        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Enumerable.Range(0, 20).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
        Assert.That(second.GetStatistics().EventsPendingOnDisk, Is.Zero);
    }

    [Test]
    public async Task Events_in_flight_at_dispose_are_sent_again_after_Create()
    {
        Harness.Collector.Faults.AlwaysFail(503);
        var first = Harness.Create(o => o.MaxBatchSize = 5);
        for (var i = 0; i < 5; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(first, s => s.BatchesFailed >= 1);
        await first.DisposeAsync();

        Harness.Collector.Faults.AlwaysFail(null);
        var second = Harness.Create();
        await second.FlushAsync(Harness.Guard);
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(5));
    }

    [Test]
    public async Task New_events_after_a_restart_get_new_ids_and_all_arrive()
    {
        var first = Harness.Create();
        first.Pause();
        await first.TrackAsync(SampleEvents.PageView(1));
        await first.DisposeAsync();

        var second = Harness.Create();
        await second.TrackAsync(SampleEvents.PageView(2));
        await second.FlushAsync(Harness.Guard);

        Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(new[] { PipelineHarness.Payload(SampleEvents.PageView(1)), PipelineHarness.Payload(SampleEvents.PageView(2)) }));
    }

    [Test]
    public async Task Dispose_with_a_shutdown_timeout_delivers_what_is_left()
    {
        var pipeline = Harness.Create(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(30);
            o.InstantEventTypes.Add("Click");
        });
        for (var i = 0; i < 7; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Mixed(i));
        }

        await pipeline.DisposeAsync();
        var stats = pipeline.GetStatistics();
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(7));
        Assert.That(stats.EventsDroppedShutdown, Is.Zero);
    }

    [Test]
    public async Task QoS0_events_left_in_memory_at_dispose_are_counted_as_dropped()
    {
        var pipeline = Harness.Create(o => o.InstantEventTypes.Add("Click"));
        pipeline.Pause();
        for (var i = 0; i < 4; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        await pipeline.DisposeAsync();
        Assert.That(pipeline.GetStatistics().EventsDroppedShutdown, Is.EqualTo(4));
    }
}
