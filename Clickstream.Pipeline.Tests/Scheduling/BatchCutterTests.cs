using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Scheduling;

public class BatchCutterTests
{
    private readonly List<EventEnvelope[]> _cut = [];

    private static IEnumerable<long> Ids(IEnumerable<EventEnvelope[]> batches) => batches.SelectMany(b => b).Select(e => e.Id);

    private List<EventEnvelope[]> TakeCut()
    {
        var cut = _cut.ToList();
        _cut.Clear();
        return cut;
    }

    [Test]
    public void Batch_reaching_MaxBatchSize_is_cut_by_count()
    {
        var cutter = new BatchCutter(maxBatchSize: 10, maxBatchBytes: 1_000_000);
        for (var i = 1; i <= 25; i++)
        {
            cutter.Add(Envelopes.Make(i), _cut);
        }

        var batches = TakeCut();
        Assert.Multiple(() =>
        {
            Assert.That(batches.Select(b => b.Length), Is.EqualTo(new[] { 10, 10 }));
            Assert.That(Ids(batches), Is.EqualTo(Enumerable.Range(1, 20).Select(i => (long)i)));
            Assert.That(cutter.OpenCount, Is.EqualTo(5));
        });
    }

    [Test]
    public void A_recycled_chunk_a_batch_long_is_the_array_the_next_batch_is_sent_in()
    {
        var cutter = new BatchCutter(maxBatchSize: 4, maxBatchBytes: 1_000_000);
        var chunk = Enumerable.Range(1, 4).Select(i => Envelopes.Make(i)).ToArray();
        var shorter = Enumerable.Range(5, 3).Select(i => Envelopes.Make(i)).ToArray();
        foreach (var envelope in chunk)
        {
            cutter.Add(envelope, _cut);
        }

        cutter.Recycle(chunk);
        cutter.Recycle(shorter);
        for (var i = 5; i <= 12; i++)
        {
            cutter.Add(Envelopes.Make(i), _cut);
        }

        var batches = TakeCut();
        Assert.Multiple(() =>
        {
            Assert.That(Ids(batches), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (long)i)), "the recycled array was cleared and refilled");
            Assert.That(batches[1], Is.SameAs(chunk), "the next batch went in the recycled chunk");
            Assert.That(batches[2], Is.Not.SameAs(shorter), "an array of another length is not a batch");
        });
    }

    [Test]
    public void Next_event_passing_MaxBatchBytes_cuts_the_batch_before_it()
    {
        var entry = Envelopes.Make(1).WireSize;
        var cutter = new BatchCutter(maxBatchSize: 100, maxBatchBytes: entry * 3);
        for (var i = 1; i <= 7; i++)
        {
            cutter.Add(Envelopes.Make(i), _cut);
        }

        Assert.That(TakeCut().Select(b => b.Length), Is.EqualTo(new[] { 3, 3 }), "the 7th event waits in the open batch");
    }

    [Test]
    public void Event_larger_than_MaxBatchBytes_goes_alone()
    {
        var cutter = new BatchCutter(maxBatchSize: 100, maxBatchBytes: 50);
        cutter.Add(Envelopes.Make(1, size: 200), _cut);
        cutter.Add(Envelopes.Make(2, size: 200), _cut);

        Assert.That(TakeCut().Select(b => b.Length), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void First_event_of_a_batch_starts_its_delay_and_the_delay_cuts_only_that_batch()
    {
        var cutter = new BatchCutter(maxBatchSize: 3, maxBatchBytes: 1_000_000);
        Assert.That(cutter.Timed, Is.Zero, "nothing open, nothing to time");

        Assert.That(cutter.Add(Envelopes.Make(1), _cut), Is.True, "the first event opens a batch");
        Assert.That(cutter.Add(Envelopes.Make(2), _cut), Is.False);
        var first = cutter.Timed;
        Assert.That(first, Is.Not.Zero);

        cutter.Add(Envelopes.Make(3), _cut);
        cutter.Add(Envelopes.Make(4), _cut);
        Assert.That(TakeCut().Select(b => b.Length), Is.EqualTo(new[] { 3 }), "cut by count before its delay");

        cutter.CutIfTimed(first, _cut);
        Assert.That(TakeCut(), Is.Empty, "the first batch's delay does not cut the next one");

        cutter.CutIfTimed(cutter.Timed, _cut);
        Assert.That(Ids(TakeCut()), Is.EqualTo(new long[] { 4 }));
    }

    [Test]
    public void Closed_gate_cuts_no_batch_and_open_again_feeds_in_order()
    {
        var cutter = new BatchCutter(maxBatchSize: 10, maxBatchBytes: 1_000_000);
        cutter.Add(Envelopes.Make(1), _cut);
        var timed = cutter.Timed;
        Assert.That(cutter.SetOpen(false, _cut), Is.True);
        for (var i = 2; i <= 35; i++)
        {
            cutter.Add(Envelopes.Make(i), _cut);
        }

        cutter.CutIfTimed(timed, _cut);
        cutter.Cut(_cut);
        Assert.Multiple(() =>
        {
            Assert.That(TakeCut(), Is.Empty, "no batch while closed, not by count, time or flush");
            Assert.That(cutter.HeldCount, Is.EqualTo(34));
            Assert.That(cutter.Timed, Is.Zero, "no delay runs while closed");
        });

        cutter.SetOpen(true, _cut);
        var byCount = TakeCut();
        Assert.That(byCount.Select(b => b.Length), Is.EqualTo(new[] { 10, 10, 10 }));
        Assert.That(cutter.Timed, Is.Not.Zero.And.Not.EqualTo(timed), "what is left open starts its delay again");

        cutter.CutIfTimed(cutter.Timed, _cut);
        Assert.That(Ids(byCount.Concat(TakeCut())), Is.EqualTo(Enumerable.Range(1, 35).Select(i => (long)i)));
    }

    [Test]
    public void Flush_cuts_what_is_open_and_nothing_when_empty()
    {
        var cutter = new BatchCutter(maxBatchSize: 10, maxBatchBytes: 1_000_000);
        cutter.Cut(_cut);
        Assert.That(TakeCut(), Is.Empty);

        cutter.Add(Envelopes.Make(1), _cut);
        cutter.Add(Envelopes.Make(2), _cut);
        cutter.Cut(_cut);
        Assert.Multiple(() =>
        {
            Assert.That(TakeCut().Select(b => b.Length), Is.EqualTo(new[] { 2 }));
            Assert.That(cutter.OpenCount, Is.Zero);
            Assert.That(cutter.OpenBytes, Is.Zero);
        });
    }

    [Test]
    public void Options_out_of_range_are_refused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new BatchCutter(0, 100), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("maxBatchSize"));
            Assert.That(() => new BatchCutter(10, 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("maxBatchBytes"));
        });
    }
}
