using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Scheduling;

public class EventSchedulerTests
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);
    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp() => _time = new FakeTimeProvider();

    private readonly Dictionary<EventScheduler, BufferBlock<EventEnvelope[]>> _outputs = [];

    private EventScheduler Make(int maxBatchSize = 10, int maxBatchBytes = 1_000_000)
    {
        var scheduler = new EventScheduler(maxBatchSize, maxBatchBytes, MaxDelay, _time, NullLogger.Instance);
        var output = new BufferBlock<EventEnvelope[]>();
        scheduler.ConnectTo(output);
        _outputs[scheduler] = output;
        return scheduler;
    }

    private List<EventEnvelope[]> Batches(EventScheduler scheduler)
    {
        var batches = new List<EventEnvelope[]>();
        while (_outputs[scheduler].TryReceive(out var batch))
        {
            batches.Add(batch);
        }

        return batches;
    }

    [Test]
    public void Batch_reaching_MaxBatchSize_is_cut_by_count()
    {
        using var scheduler = Make(maxBatchSize: 10);
        for (var i = 1; i <= 25; i++)
        {
            scheduler.Enqueue(Envelopes.Make(i));
        }

        var batches = Batches(scheduler);
        Assert.That(batches.Select(b => b.Length), Is.EqualTo(new[] { 10, 10 }));
        Assert.That(batches.SelectMany(b => b).Select(e => e.Id), Is.EqualTo(Enumerable.Range(1, 20).Select(i => (long)i)));
    }

    [Test]
    public void Next_event_passing_MaxBatchBytes_cuts_the_batch_before_it()
    {
        // Each 100-byte event takes 113 bytes on the wire ("pageview" type + tags and lengths).
        var entry = Envelopes.Make(1).WireSize;
        using var scheduler = Make(maxBatchSize: 100, maxBatchBytes: entry * 3);
        for (var i = 1; i <= 7; i++)
        {
            scheduler.Enqueue(Envelopes.Make(i));
        }

        var batches = Batches(scheduler);
        Assert.That(batches.Select(b => b.Length), Is.EqualTo(new[] { 3, 3 }), "the 7th event waits in the open batch");
    }

    [Test]
    public void Event_larger_than_MaxBatchBytes_goes_alone()
    {
        using var scheduler = Make(maxBatchSize: 100, maxBatchBytes: 50);
        scheduler.Enqueue(Envelopes.Make(1, size: 200));
        scheduler.Enqueue(Envelopes.Make(2, size: 200));

        Assert.That(Batches(scheduler).Select(b => b.Length), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void Open_batch_is_cut_when_MaxTimeBetweenTwoBatches_passed_since_its_first_event()
    {
        using var scheduler = Make(maxBatchSize: 10);
        scheduler.Enqueue(Envelopes.Make(1));
        _time.Advance(MaxDelay / 2);
        scheduler.Enqueue(Envelopes.Make(2));
        Assert.That(Batches(scheduler), Is.Empty);

        _time.Advance(MaxDelay / 2);
        Assert.That(Batches(scheduler).Select(b => b.Length), Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void Timer_is_not_armed_while_nothing_waits()
    {
        using var scheduler = Make();
        _time.Advance(MaxDelay * 3);
        scheduler.Enqueue(Envelopes.Make(1));
        _time.Advance(MaxDelay - TimeSpan.FromTicks(1));

        Assert.That(Batches(scheduler), Is.Empty, "the delay counts from the batch's first event");
    }

    [Test]
    public void Unreachable_network_cuts_no_batch_and_reachable_again_sends_in_order()
    {
        using var scheduler = Make(maxBatchSize: 10);
        scheduler.Enqueue(Envelopes.Make(1));
        scheduler.SetReachable(false);
        for (var i = 2; i <= 35; i++)
        {
            scheduler.Enqueue(Envelopes.Make(i));
        }

        _time.Advance(MaxDelay * 5);
        scheduler.CutForFlush();
        Assert.Multiple(() =>
        {
            Assert.That(Batches(scheduler), Is.Empty, "no batch while unreachable, not by count, time or flush");
            Assert.That(scheduler.HeldCount, Is.EqualTo(34));
        });

        scheduler.SetReachable(true);
        var byCount = Batches(scheduler);
        Assert.That(byCount.Select(b => b.Length), Is.EqualTo(new[] { 10, 10, 10 }));

        _time.Advance(MaxDelay);
        var all = byCount.Concat(Batches(scheduler)).SelectMany(b => b).Select(e => e.Id);
        Assert.That(all, Is.EqualTo(Enumerable.Range(1, 35).Select(i => (long)i)));
    }

    [Test]
    public void Flush_pending_cuts_each_range_at_once()
    {
        using var scheduler = Make(maxBatchSize: 10);
        scheduler.BeginFlush();
        scheduler.EnqueueRange(new[] { Envelopes.Make(1), Envelopes.Make(2) });
        Assert.That(Batches(scheduler).Select(b => b.Length), Is.EqualTo(new[] { 2 }));

        scheduler.EndFlush();
        scheduler.EnqueueRange(new[] { Envelopes.Make(3) });
        Assert.That(Batches(scheduler), Is.Empty, "without a flush the batch waits for its timer");
    }
}
