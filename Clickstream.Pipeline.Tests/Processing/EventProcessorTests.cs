using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Tests.Processing;

public class EventProcessorTests
{
    [Test]
    public void NewUuidV7_has_version_variant_and_the_milliseconds_in_front()
    {
        var random = new Random(42);
        var time = new DateTimeOffset(2026, 11, 28, 1, 2, 3, 456, TimeSpan.Zero);
        var guid = EventProcessor.NewUuidV7(time.ToUnixTimeMilliseconds(), random);
        var bytes = guid.ToByteArray(bigEndian: true);
        var milliseconds = 0L;
        for (var i = 0; i < 6; i++)
        {
            milliseconds = (milliseconds << 8) | bytes[i];
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(guid.Version, Is.EqualTo(7));
            Assert.That(bytes[8] >> 6, Is.EqualTo(0b10), "RFC 9562 variant");
            Assert.That(milliseconds, Is.EqualTo(time.ToUnixTimeMilliseconds()));
        }
    }

    [Test]
    public void NewUuidV7_ids_of_the_same_millisecond_differ()
    {
        var random = new Random(7);
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 10_000; i++)
        {
            ids.Add(EventProcessor.NewUuidV7(1_790_000_000_000, random));
        }

        Assert.That(ids, Has.Count.EqualTo(10_000));
    }
}
