using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Pipeline.Tests.Transports;

public class RaccoonWireTests
{
    private static SendEventRequest Reference(Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events)
    {
        var request = new SendEventRequest { ReqGuid = requestGuid.ToString(), SentTime = Timestamp.FromDateTimeOffset(sentTime) };
        foreach (var e in events)
        {
            request.Events.Add(new Event { EventBytes = ByteString.CopyFrom(e.Bytes), Type = e.TypeInfo.Type });
        }

        return request;
    }

    private static byte[] Write(Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events)
    {
        var buffer = new byte[RaccoonWire.RequestSize(events, sentTime)];
        var written = RaccoonWire.WriteRequest(buffer, requestGuid, sentTime, events);
        Assert.That(written, Is.EqualTo(buffer.Length), "RequestSize is exact");
        return buffer;
    }

    [TestCase(0, 0)]
    [TestCase(1_790_000_000, 0)]
    [TestCase(1_790_000_000, 123_456_700)]
    [TestCase(0, 100)]
    public void Request_is_byte_for_byte_what_Google_Protobuf_writes(long seconds, int nanos)
    {
        var sentTime = DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(nanos / 100);
        var events = new[]
        {
            Envelopes.Make(1, size: 0),
            Envelopes.Make(2, size: 1),
            Envelopes.Make(3, size: 127),
            Envelopes.Make(4, size: 128),
            Envelopes.Make(5, size: 20_000),
            new EventEnvelope(new EventTypeInfo("grüppe-ünïcode", durable: true), [1, 2, 3], CancellationToken.None),
        };
        var requestGuid = Guid.NewGuid();

        Assert.That(Write(requestGuid, sentTime, events), Is.EqualTo(Reference(requestGuid, sentTime, events).ToByteArray()));
    }

    [Test]
    public void Request_with_no_events_matches_too()
    {
        var requestGuid = Guid.NewGuid();
        var sentTime = DateTimeOffset.UtcNow;
        Assert.That(Write(requestGuid, sentTime, []), Is.EqualTo(Reference(requestGuid, sentTime, []).ToByteArray()));
    }

    [Test]
    public void Request_parses_back_with_each_event_and_type()
    {
        var events = Enumerable.Range(1, 50).Select(i => Envelopes.Make(i, size: i * 7)).ToArray();
        var requestGuid = Guid.NewGuid();
        var parsed = SendEventRequest.Parser.ParseFrom(Write(requestGuid, DateTimeOffset.UtcNow, events));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed.ReqGuid, Is.EqualTo(requestGuid.ToString()));
            Assert.That(parsed.Events.Select(e => e.EventBytes.ToByteArray()), Is.EqualTo(events.Select(e => e.Bytes)));
            Assert.That(parsed.Events.Select(e => e.Type), Is.All.EqualTo("pageview"));
        }
    }

    [Test]
    public void EventEntrySize_is_what_the_event_adds_to_a_request()
    {
        var sentTime = DateTimeOffset.UtcNow;
        var one = Envelopes.Make(1, size: 300);
        var empty = RaccoonWire.RequestSize([], sentTime);
        Assert.That(RaccoonWire.RequestSize([one], sentTime) - empty, Is.EqualTo(one.WireSize));
        Assert.That(Reference(Guid.NewGuid(), sentTime, [one]).CalculateSize() - Reference(Guid.NewGuid(), sentTime, []).CalculateSize(), Is.EqualTo(one.WireSize));
    }
}
