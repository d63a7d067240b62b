using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// A disk that refuses writes (streams that throw <c>IOException("No space left on device")</c> under real
/// LiteDB files) against a real collector: QoS1 TrackAsync fails, QoS0 flows, nothing committed is lost.
/// </summary>
public class StoreWriteErrorTests : PipelineTestBase
{
    private FaultyFileSystem _files = null!;

    [SetUp]
    public void CreateFileSystem() => _files = new FaultyFileSystem();

    [Test]
    public async Task Full_disk_fails_QoS1_TrackAsync_delivers_QoS0_and_after_it_clears_delivers_every_committed_event()
    {
        var pipeline = Harness.Create(
            o =>
            {
                o.InstantEventTypes.Add("Click");
                o.MaxBatchSize = 20;
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.RetryMaxDelay = TimeSpan.FromSeconds(1);
            },
            hooks: new() { FileSystem = _files });
        pipeline.Pause();
        for (var i = 0; i < 20; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        _files.DiskFull = true;
        var ex = await Assert.ThrowsAsync<ClickstreamStorageException>(async () => await pipeline.TrackAsync(SampleEvents.PageView(100)));
        Assert.That(ex!.Message, Does.Contain("No space left on device"));
        for (var i = 0; i < 10; i++)
        {
            await pipeline.TrackAsync(SampleEvents.Click(i));
        }

        // The 20 QoS1 events form one batch, which cannot go while its request record cannot be written; the
        // QoS0 events form the next, which needs no disk.
        pipeline.Resume();
        var flush = pipeline.FlushAsync(Harness.Guard);
        await Harness.Collector.WaitForEventsAsync(10, Harness.Guard);
        await Harness.WaitAsync(pipeline, s => s.BatchesFailed >= 1);
        Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => PipelineHarness.Payload(SampleEvents.Click(i)))), "QoS0 goes on while the disk is full");
        Assert.That(flush.IsCompleted, Is.False);

        _files.DiskFull = false;
        Harness.Time.Advance(TimeSpan.FromSeconds(2));
        await flush;
        await pipeline.TrackAsync(SampleEvents.PageView(200));
        await pipeline.FlushAsync(Harness.Guard);

        var statistics = pipeline.GetStatistics();
        var expected = Enumerable.Range(0, 10).Select(i => PipelineHarness.Payload(SampleEvents.Click(i)))
            .Concat(Enumerable.Range(0, 20).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i))))
            .Append(PipelineHarness.Payload(SampleEvents.PageView(200)));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(expected), "every QoS1 event committed before the fault, then the one after it");
            Assert.That(statistics.EventsStoreFailed, Is.EqualTo(1));
            Assert.That(statistics.StoreReopens, Is.GreaterThanOrEqualTo(1));
            Assert.That(statistics.EventsPendingOnDisk, Is.Zero);
        }
    }

    [Test]
    public async Task Next_commit_after_a_failed_write_reopens_the_store_and_succeeds_once_the_disk_has_room()
    {
        using var store = new StoreHarness();
        store.Start(store.Options() with { FileSystem = _files });
        await store.CommitAsync(store.Events(1, 5));

        _files.DiskFull = true;
        var failed = store.Event(6);
        var failure = await Assert.ThrowsAsync<ClickstreamStorageException>(() => store.CommitAsync([failed]));
        Assert.That(failure!.InnerException, Is.InstanceOf<IOException>());

        _files.DiskFull = false;
        await store.CommitAsync(store.Events(7, 10));
        var statistics = store.Counters.Snapshot();
        store.Stop();

        // The failed database and its transaction must not be left to LiteDB's finalizers, which throw on the
        // finalizer thread and would end the process (see LiteDbFinalizers): run them now.
        GC.Collect();
        GC.WaitForPendingFinalizers();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(StoreFile.CommittedEventIds(store.Folder.StorePath), Is.EquivalentTo(new long[] { 1, 2, 3, 4, 5, 7, 8, 9, 10 }));
            Assert.That(statistics.StoreReopens, Is.EqualTo(1));
            Assert.That(statistics.EventsStoreFailed, Is.EqualTo(1));
            Assert.That(statistics.EventsPendingOnDisk, Is.EqualTo(9));
        }
    }

    [Test]
    public async Task Events_committed_before_a_full_disk_survive_a_shutdown_during_it_and_are_delivered_at_the_next_start()
    {
        var first = Harness.Create(hooks: new() { FileSystem = _files });
        first.Pause();
        for (var i = 0; i < 20; i++)
        {
            await first.TrackAsync(SampleEvents.PageView(i));
        }

        _files.DiskFull = true;
        await Assert.ThrowsAsync<ClickstreamStorageException>(async () => await first.TrackAsync(SampleEvents.PageView(100)));
        await first.DisposeAsync();
        _files.DiskFull = false;

        var second = Harness.Create();
        await second.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(second.GetStatistics().EventsRecovered, Is.EqualTo(20));
            Assert.That(Harness.ReceivedPayloads(), Is.EqualTo(Enumerable.Range(0, 20).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
        }
    }
}
