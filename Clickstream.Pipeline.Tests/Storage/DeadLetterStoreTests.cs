using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>The store's dead letters against their bound (<see cref="ClickstreamOptions.MaxDeadLetters"/>).</summary>
public class DeadLetterStoreTests : StoreHarnessTestBase
{
    private const int DeadLettersEvictedLog = 47;

    [Test]
    public async Task Dead_letters_past_the_bound_evict_the_oldest_counted_and_logged_once_per_run()
    {
        Harness.Start(Harness.Options() with { MaxDeadLetters = 3 });
        var events = Harness.Events(1, 6);
        await Harness.CommitAsync(events);
        for (var i = 0; i < 4; i++)
        {
            await Harness.Store.DeadLetterAsync(events[i], "rejected 400").WaitAsync(Harness.Guard);
        }

        var afterFirst = Harness.Store.ReadDeadLetters(10);

        // A lower bound at the next start: the next dead letter evicts every one beyond it, in one run.
        Harness.Stop();
        Harness.Start(Harness.Options() with { MaxDeadLetters = 1 });
        await Harness.Store.DeadLetterAsync(Harness.Event(5), "rejected 400").WaitAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterFirst.Select(l => l.Id), Is.EqualTo(new long[] { 4, 3, 2 }), "the oldest, event 1, went first");
            Assert.That(Harness.Store.ReadDeadLetters(10).Select(l => l.Id), Is.EqualTo(new long[] { 5 }));
            Assert.That(Harness.Counters.DeadLettersEvicted, Is.EqualTo(4));
            Assert.That(Harness.Messages(DeadLettersEvictedLog), Has.Count.EqualTo(2));
            Assert.That(Harness.Messages(DeadLettersEvictedLog)[0], Does.StartWith("1 dead letters").And.Contain("at most 3"));
            Assert.That(Harness.Messages(DeadLettersEvictedLog)[1], Does.StartWith("3 dead letters").And.Contain("at most 1").And.Contain("4 evicted so far"));
        }
    }
}
