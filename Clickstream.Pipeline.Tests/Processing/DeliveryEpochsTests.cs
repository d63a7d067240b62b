using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Processing;

public class DeliveryEpochsTests
{
    [Test]
    public void Sealed_epoch_completes_when_its_events_are_done_not_before()
    {
        var epochs = new DeliveryEpochs(0, 0);
        var events = Enumerable.Range(1, 3).Select(i => Tag(epochs, Envelopes.Make(i))).ToArray();
        var sealedEpoch = epochs.Seal(3);
        var later = Tag(epochs, Envelopes.Make(4));

        DeliveryEpochs.Complete(events.AsSpan(0, 2));
        Assert.That(sealedEpoch.Completion.IsCompleted, Is.False);

        DeliveryEpochs.Complete([later]);
        Assert.That(sealedEpoch.Completion.IsCompleted, Is.False, "an event tracked after the flush does not count");

        DeliveryEpochs.Complete(events.AsSpan(2));
        Assert.That(sealedEpoch.Completion.IsCompleted, Is.True);
    }

    [Test]
    public async Task Later_epoch_waits_for_the_earlier_one()
    {
        var epochs = new DeliveryEpochs(0, 0);
        var first = Tag(epochs, Envelopes.Make(1));
        var firstEpoch = epochs.Seal(1);
        var second = Tag(epochs, Envelopes.Make(2));
        var secondEpoch = epochs.Seal(2);

        DeliveryEpochs.Complete([second]);
        Assert.That(secondEpoch.Completion.IsCompleted, Is.False);
        DeliveryEpochs.Complete([first]);
        await Task.WhenAll(firstEpoch.Completion, secondEpoch.Completion).WaitAsync(Timeouts.Guard());
        Assert.That(secondEpoch.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task Recovered_events_form_a_first_epoch_found_by_id()
    {
        var epochs = new DeliveryEpochs(recoveredEvents: 2, lastRecoveredId: 10);
        var recovered = epochs.Find(9);
        var fresh = epochs.Find(11);
        var flush = epochs.Seal(10);

        Assert.That(recovered, Is.Not.SameAs(fresh));
        recovered.Complete(1);
        Assert.That(flush.Completion.IsCompleted, Is.False, "a flush waits for the recovered backlog");
        recovered.Complete(1);
        await flush.Completion.WaitAsync(Timeouts.Guard());
        Assert.That(flush.Completion.IsCompletedSuccessfully, Is.True);
    }

    private static EventEnvelope Tag(DeliveryEpochs epochs, EventEnvelope e)
    {
        e.Epoch = epochs.Current;
        e.Epoch.Add();
        return e;
    }
}
