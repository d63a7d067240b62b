using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Scheduling;

/// <summary>The scheduler block on fake time, stepped message by message (<see cref="InlineTaskScheduler"/>).</summary>
public class EventSchedulerTests
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);
    private FakeTimeProvider _time = null!;
    private EventScheduler _scheduler = null!;
    private BufferBlock<EventEnvelope[]> _batches = null!;
    private List<bool> _gate = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _scheduler = new EventScheduler(maxBatchSize: 10, maxBatchBytes: 1_000_000, MaxDelay, _time, NullLogger.Instance, taskScheduler: InlineTaskScheduler.Instance);
        _batches = new BufferBlock<EventEnvelope[]>();
        _scheduler.Output.LinkTo(_batches);
        _gate = [];
        _scheduler.WatchGate(_gate.Add);
    }

    [TearDown]
    public void TearDown() => _scheduler.Dispose();

    private List<EventEnvelope[]> Batches()
    {
        _batches.TryReceiveAll(out var batches);
        return batches is null ? [] : [.. batches];
    }

    private static EventEnvelope[] Events(int from, int count) => Enumerable.Range(from, count).Select(i => Envelopes.Make(i)).ToArray();

    [Test]
    public void Open_batch_is_cut_when_MaxTimeBetweenTwoBatches_passed_since_its_first_event()
    {
        _scheduler.Input.Post(FlowMessage.Instant(Events(1, 1)));
        _time.Advance(MaxDelay / 2);
        _scheduler.Input.Post(FlowMessage.Instant(Events(2, 1)));
        Assert.That(Batches(), Is.Empty);

        _time.Advance(MaxDelay / 2);
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void Timer_is_not_armed_while_nothing_waits()
    {
        _time.Advance(MaxDelay * 3);
        _scheduler.Input.Post(FlowMessage.Instant(Events(1, 1)));
        _time.Advance(MaxDelay - TimeSpan.FromTicks(1));
        Assert.That(Batches(), Is.Empty, "the delay counts from the batch's first event");

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(Batches(), Has.Count.EqualTo(1));
    }

    [Test]
    public void QoS0_batch_delay_counts_from_its_first_event_tracked_not_from_its_arrival()
    {
        // The ingress pump may hold QoS0 events a little before they reach the scheduler.
        var lingered = Envelopes.Make(1, durable: false);
        lingered.TimestampTicks = (_time.GetUtcNow() - MaxDelay / 2).UtcTicks;
        _scheduler.Input.Post(FlowMessage.Instant([lingered]));
        _time.Advance(MaxDelay / 2 - TimeSpan.FromTicks(1));
        Assert.That(Batches(), Is.Empty);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void QoS0_events_that_arrive_after_their_delay_passed_are_cut_at_once()
    {
        var late = Events(1, 3);
        foreach (var envelope in late)
        {
            envelope.TimestampTicks = (_time.GetUtcNow() - MaxDelay).UtcTicks;
        }

        _scheduler.Input.Post(FlowMessage.Instant(late));
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void QoS1_batch_delay_counts_from_its_arrival_however_old_its_events_are()
    {
        // Read back from disk after a restart: tracked long ago, batched like new ones.
        var old = Events(1, 3);
        foreach (var envelope in old)
        {
            envelope.TimestampTicks = (_time.GetUtcNow() - MaxDelay * 100).UtcTicks;
        }

        _scheduler.Input.Post(FlowMessage.Committed(old));
        _time.Advance(MaxDelay - TimeSpan.FromTicks(1));
        Assert.That(Batches(), Is.Empty);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void InstantSettled_is_what_the_scheduler_received_less_its_open_batch()
    {
        _scheduler.Input.Post(FlowMessage.Instant(Events(1, 13)));
        Assert.That(_scheduler.InstantSettled, Is.EqualTo(10), "one batch of 10 cut, 3 open");

        _scheduler.Input.Post(FlowMessage.Committed(Events(14, 2)));
        Assert.That(_scheduler.InstantSettled, Is.EqualTo(8), "QoS1 events in the open batch take its room too");

        _time.Advance(MaxDelay);
        Assert.That(_scheduler.InstantSettled, Is.EqualTo(13), "the timer cut the open batch");
    }

    [Test]
    public void An_ingress_chunk_the_scheduler_does_not_fill_its_next_batch_into_goes_back_to_the_pool()
    {
        var chunks = new ChunkPool(5);
        using var scheduler = new EventScheduler(maxBatchSize: 10, maxBatchBytes: 1_000_000, MaxDelay, _time, NullLogger.Instance, taskScheduler: InlineTaskScheduler.Instance, chunks: chunks);
        var batchLong = Events(1, 10);
        scheduler.Input.Post(FlowMessage.Instant(batchLong));
        Assert.That(chunks.Count, Is.Zero, "a chunk a batch long is the next batch's array");

        var shorter = chunks.Rent();
        Events(11, 5).CopyTo(shorter, 0);
        scheduler.Input.Post(FlowMessage.Instant(shorter));
        Assert.That(chunks.Rent(), Is.SameAs(shorter));
    }

    [Test]
    public void Ingress_reads_again_only_for_events_that_complete_the_batch_left_open()
    {
        // 10 events forwarded, none settled yet: they make a batch of their own, the 3 pending start the next.
        Assert.That(PipelineGraph.CompletesBatch(pending: 3, forwarded: 10, settled: 0, maxBatchSize: 10), Is.False);
        Assert.That(PipelineGraph.CompletesBatch(pending: 3, forwarded: 17, settled: 0, maxBatchSize: 10), Is.True);
        Assert.That(PipelineGraph.CompletesBatch(pending: 10, forwarded: 20, settled: 20, maxBatchSize: 10), Is.True);
        Assert.That(PipelineGraph.CompletesBatch(pending: 9, forwarded: 20, settled: 20, maxBatchSize: 10), Is.False);
    }

    [Test]
    public void Closed_gate_holds_events_and_tells_the_watcher_before_feeding_them_in_order()
    {
        _scheduler.SetReachable(false);
        _scheduler.Input.Post(FlowMessage.Committed(Events(1, 25)));
        _time.Advance(MaxDelay * 5);
        _scheduler.Input.Post(FlowMessage.Flush());
        Assert.Multiple(() =>
        {
            Assert.That(Batches(), Is.Empty, "no batch while unreachable, not by count, time or flush");
            Assert.That(_scheduler.HeldCount, Is.EqualTo(25));
            Assert.That(_gate, Is.EqualTo(new[] { true, false }), "told the state when it started watching, then the change");
        });

        _scheduler.SetReachable(true);
        var byCount = Batches();
        Assert.That(byCount.Select(b => b.Length), Is.EqualTo(new[] { 10, 10 }));

        _time.Advance(MaxDelay);
        var all = byCount.Concat(Batches()).SelectMany(b => b).Select(e => e.Id);
        Assert.Multiple(() =>
        {
            Assert.That(all, Is.EqualTo(Enumerable.Range(1, 25).Select(i => (long)i)));
            Assert.That(_gate, Is.EqualTo(new[] { true, false, true }));
            Assert.That(_scheduler.HeldCount, Is.Zero);
        });
    }

    [Test]
    public void Flush_waiting_cuts_committed_and_retried_events_at_once_but_not_QoS0_events()
    {
        var marker = new FlushMarker();
        _scheduler.Input.Post(FlowMessage.Committed(Events(1, 2)));
        Assert.That(Batches(), Is.Empty, "before the flush's marker got here, events fill their batch");

        _scheduler.Input.Post(FlowMessage.Flush(new EventEnvelope(marker)));
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 2 }), "the marker cuts what is open");

        _scheduler.Input.Post(FlowMessage.Committed(Events(101, 2)));
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 2 }));

        _scheduler.Input.Post(FlowMessage.Retry(Events(3, 3)));
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 3 }));

        _scheduler.Input.Post(FlowMessage.Instant(Events(6, 1)));
        Assert.That(Batches(), Is.Empty, "QoS0 events wait for the flush marker that follows them");

        _scheduler.Input.Post(FlowMessage.Flush());
        Assert.That(Batches().Select(b => b.Length), Is.EqualTo(new[] { 1 }), "a flush without a marker only cuts");

        marker.End();
        _scheduler.Input.Post(FlowMessage.Committed(Events(7, 1)));
        Assert.That(Batches(), Is.Empty, "without a flush the batch waits for its timer");
    }
}
