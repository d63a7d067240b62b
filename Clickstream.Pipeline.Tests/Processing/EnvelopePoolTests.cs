using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Pipeline.Tests.Processing;

[NonParallelizable]
public class EnvelopePoolTests
{
    [SetUp]
    public void KeepEnough() => EnvelopePool.KeepUpTo(1_000);

    [Test]
    public void Returned_envelope_is_cleared_and_rented_again_with_the_new_payload()
    {
        var click = SampleEvents.Click(1);
        var first = EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
        first.Id = 7;
        first.Epoch = new DeliveryEpoch(null);
        EnvelopePool.Return([first]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.IsRented, Is.False);
            Assert.That(first.Id, Is.Zero);
            Assert.That(first.Epoch, Is.Null);
            Assert.That(first.Payload.Length, Is.Zero);
        }

        // Drain this thread's magazine and the shared stack until the returned envelope comes back.
        var other = SampleEvents.Click(2);
        var rented = new List<EventEnvelope>();
        EventEnvelope again;
        do
        {
            again = EventEnvelope.RentInstant(Envelopes.Instant, other, other.CalculateSize());
            rented.Add(again);
        }
        while (!ReferenceEquals(again, first) && rented.Count < 100_000);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(again, Is.SameAs(first));
            Assert.That(again.Payload.ToArray(), Is.EqualTo(other.ToByteArray()));
            Assert.That(again.WireSize, Is.EqualTo(RaccoonWire.EventEntrySize(other.CalculateSize(), Envelopes.Instant.TypeUtf8.Length)));
        }

        EnvelopePool.Return(rented.ToArray());
    }

    [Test]
    public void Double_return_is_ignored_so_one_envelope_never_serves_two_events()
    {
        var click = SampleEvents.Click(1);
        var envelope = EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
        EnvelopePool.Return([envelope]);
        var shared = EnvelopePool.SharedCount;
        EnvelopePool.Return([envelope]);

        var a = EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
        var b = EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(EnvelopePool.SharedCount, Is.LessThanOrEqualTo(shared));
            Assert.That(b, Is.Not.SameAs(a));
        }

        EnvelopePool.Return([a, b]);
    }

    [Test]
    public void QoS1_envelopes_of_a_batch_are_not_pooled()
    {
        var durable = Envelopes.Make(1);
        var click = SampleEvents.Click(1);
        var instant = EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
        EnvelopePool.Return([durable, instant]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(durable.Id, Is.EqualTo(1), "a QoS1 envelope is left alone: a retry sends it again");
            Assert.That(durable.Payload.Length, Is.EqualTo(100));
            Assert.That(instant.IsRented, Is.False);
        }
    }

    [Test]
    public void Buffer_over_the_kept_size_is_dropped_on_return()
    {
        var big = new Click { ElementId = new string('x', EnvelopePool.MaxKeptBufferBytes + 100) };
        var envelope = EventEnvelope.RentInstant(Envelopes.Instant, big, big.CalculateSize());
        Assert.That(envelope.Payload.ToArray(), Is.EqualTo(big.ToByteArray()));
        EnvelopePool.Return([envelope]);
        Assert.That(envelope.Payload.Length, Is.Zero);

        var small = SampleEvents.Click(3);
        var again = EventEnvelope.RentInstant(Envelopes.Instant, small, small.CalculateSize());
        Assert.That(again.Payload.ToArray(), Is.EqualTo(small.ToByteArray()));
        EnvelopePool.Return([again]);
    }
}
