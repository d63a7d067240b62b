using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>The store's dead letters against their bound (<see cref="ClickstreamOptions.MaxDeadLetters"/>).</summary>
public class DeadLetterStoreTests
{
    private const int DeadLettersEvictedLog = 47;

    private StoreHarness _harness = null!;

    [SetUp]
    public void SetUp() => _harness = new StoreHarness();

    [TearDown]
    public void TearDown() => _harness.Dispose();

    [Test]
    public async Task Dead_letters_past_the_bound_evict_the_oldest_counted_and_logged_once_per_run()
    {
        _harness.Start(_harness.Options() with { MaxDeadLetters = 3 });
        var events = _harness.Events(1, 6);
        await _harness.CommitAsync(events);
        for (var i = 0; i < 4; i++)
        {
            await _harness.Store.DeadLetterAsync(events[i], "rejected 400").WaitAsync(_harness.Guard);
        }

        var afterFirst = _harness.Store.ReadDeadLetters(10);

        // A lower bound at the next start: the next dead letter evicts every one beyond it, in one run.
        _harness.Stop();
        _harness.Start(_harness.Options() with { MaxDeadLetters = 1 });
        await _harness.Store.DeadLetterAsync(_harness.Event(5), "rejected 400").WaitAsync(_harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterFirst.Select(l => l.Id), Is.EqualTo(new long[] { 4, 3, 2 }), "the oldest, event 1, went first");
            Assert.That(_harness.Store.ReadDeadLetters(10).Select(l => l.Id), Is.EqualTo(new long[] { 5 }));
            Assert.That(_harness.Counters.DeadLettersEvicted, Is.EqualTo(4));
            Assert.That(_harness.Messages(DeadLettersEvictedLog), Has.Count.EqualTo(2));
            Assert.That(_harness.Messages(DeadLettersEvictedLog)[0], Does.StartWith("1 dead letters").And.Contain("at most 3"));
            Assert.That(_harness.Messages(DeadLettersEvictedLog)[1], Does.StartWith("3 dead letters").And.Contain("at most 1").And.Contain("4 evicted so far"));
        }
    }
}
