using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// Dead letters are data: the server refuses some page views on their own (<see cref="RefusingTransport"/> in front
/// of the real collector) until it is fixed; then they are requeued and really delivered, or deleted.
/// </summary>
public class DeadLetterTests : PipelineTestBase
{
    private const int Acknowledged = 100;

    [Test]
    public async Task RequeueDeadLettersAsync_delivers_them_to_the_collector_and_empties_the_dead_letters()
    {
        var (pipeline, server) = await DeadLetterAsync(poison: [2, 5]);
        var before = Harness.Collector.Stats.Events;

        server.Refusing = false;
        var requeued = await pipeline.RequeueDeadLettersAsync(cancellationToken: Harness.Guard);
        await pipeline.FlushAsync(Harness.Guard);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(requeued, Is.EqualTo(2));
            Assert.That(Harness.Collector.Stats.Events - before, Is.EqualTo(2));
            Assert.That(Harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 8).Append(Acknowledged).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(pipeline.GetDeadLetters(), Is.Empty);
            Assert.That(stats.EventsPendingOnDisk, Is.Zero);
            Assert.That(stats.EventsDeadLettered, Is.EqualTo(2), "no new dead letter");
            Assert.That(stats.DurableEventsTracked, Is.EqualTo(9), "a requeued event is not tracked again");
        }
    }

    [Test]
    public async Task RequeueDeadLettersAsync_with_ids_requeues_only_those_and_they_are_refused_again_if_still_bad()
    {
        var (pipeline, _) = await DeadLetterAsync(poison: [2, 5]);
        var letters = pipeline.GetDeadLetters();
        var five = letters.Single(l => l.EventBytes.SequenceEqual(SampleEvents.PageView(5).ToByteArray()));

        // The server still refuses it: requeued, refused alone again, dead-lettered again.
        var requeued = await pipeline.RequeueDeadLettersAsync([five.Id, long.MaxValue], Harness.Guard);
        await pipeline.FlushAsync(Harness.Guard);

        var after = pipeline.GetDeadLetters();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(requeued, Is.EqualTo(1), "an unknown id is ignored");
            Assert.That(pipeline.GetStatistics().EventsDeadLettered, Is.EqualTo(3));
            Assert.That(after.Select(l => Convert.ToBase64String(l.EventBytes)), Is.EquivalentTo(new[] { 2, 5 }.Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(after.Select(l => l.Id), Does.Not.Contain(five.Id), "dead-lettered again under its new id");
        }
    }

    [Test]
    public async Task DeleteDeadLettersAsync_removes_those_named_then_all()
    {
        var (pipeline, _) = await DeadLetterAsync(poison: [1, 3, 6]);
        var letters = pipeline.GetDeadLetters();

        var deleted = await pipeline.DeleteDeadLettersAsync([letters[0].Id], Harness.Guard);
        var left = pipeline.GetDeadLetters();
        var deletedAll = await pipeline.DeleteDeadLettersAsync(cancellationToken: Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(deleted, Is.EqualTo(1));
            Assert.That(left.Select(l => l.Id), Is.EquivalentTo(letters.Skip(1).Select(l => l.Id)));
            Assert.That(deletedAll, Is.EqualTo(2));
            Assert.That(pipeline.GetDeadLetters(), Is.Empty);
            Assert.That(await pipeline.RequeueDeadLettersAsync(cancellationToken: Harness.Guard), Is.Zero);
        }
    }

    [Test]
    public async Task Dead_letters_past_MaxDeadLetters_evict_the_oldest_counted_in_the_statistics_and_metrics()
    {
        var (pipeline, _) = await DeadLetterAsync(poison: [1, 3, 5, 7], maxDeadLetters: 2);

        var letters = pipeline.GetDeadLetters();
        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.EventsDeadLettered, Is.EqualTo(4));
            Assert.That(stats.DeadLettersEvicted, Is.EqualTo(2));
            Assert.That(letters, Has.Count.EqualTo(2));
            Assert.That(letters[0].Id, Is.GreaterThan(letters[1].Id), "newest first");
        }
    }

    /// <summary>
    /// Tracks page views 0 to 7 in one batch of 8 while the server refuses the <paramref name="poison"/> ones on their
    /// own, and flushes: those end in the dead letters, the others at the collector.
    /// </summary>
    private async Task<(ClickstreamPipeline Pipeline, RefusingTransport Server)> DeadLetterAsync(int[] poison, int maxDeadLetters = 100)
    {
        RefusingTransport? server = null;
        var pipeline = Harness.Create(
            o =>
            {
                o.MaxBatchSize = 8;
                o.MaxDeadLetters = maxDeadLetters;
            },
            settings => server = new RefusingTransport(new HttpTransport(settings, json: false), [.. poison.Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))]));

        // An acknowledged request first: a lone refusal is the event's own only while the endpoint takes others.
        await pipeline.TrackAsync(SampleEvents.PageView(Acknowledged));
        await pipeline.FlushAsync(Harness.Guard);
        await PipelineHarness.TrackAsync(pipeline, pageViews: 8);
        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(pipeline.GetStatistics().EventsDeadLettered, Is.EqualTo(poison.Length));
        return (pipeline, server!);
    }
}
