using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clickstream.Pipeline.Tests.Processing;

/// <summary>The processor block, stepped chunk by chunk (<see cref="InlineTaskScheduler"/>).</summary>
public class EventProcessorTests
{
    private static readonly DateTimeOffset Tracked = new(2026, 11, 28, 5, 0, 0, TimeSpan.Zero);
    private PipelineCounters _counters = null!;
    private DeliveryEpochs _epochs = null!;
    private EventProcessor _processor = null!;
    private BufferBlock<FlowMessage> _toStore = null!;
    private BufferBlock<FlowMessage> _toScheduler = null!;

    [SetUp]
    public void SetUp()
    {
        EnvelopePool.KeepUpTo(1_000);
        _counters = new PipelineCounters();
        _epochs = new DeliveryEpochs(0, 0);
        _processor = new EventProcessor(0, _epochs, _counters, NullLogger.Instance, InlineTaskScheduler.Instance);
        _toStore = new BufferBlock<FlowMessage>();
        _toScheduler = new BufferBlock<FlowMessage>();
        _processor.Output.LinkTo(_toStore, m => m.Kind == FlowMessageKind.ToStore);
        _processor.Output.LinkTo(_toScheduler, m => m.Kind == FlowMessageKind.Instant);
    }

    private static EventEnvelope Instant(int n)
    {
        var click = SampleEvents.Click(n);
        var envelope = EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
        envelope.TimestampTicks = Tracked.AddSeconds(n).UtcTicks;
        return envelope;
    }

    private static EventEnvelope Durable(int n, CancellationToken cancellationToken = default) =>
        new(Envelopes.Durable, new byte[10], cancellationToken) { TimestampTicks = Tracked.AddSeconds(n).UtcTicks };

    private static List<FlowMessage> All(BufferBlock<FlowMessage> block)
    {
        block.TryReceiveAll(out var messages);
        return messages is null ? [] : [.. messages];
    }

    [Test]
    public void Chunk_is_stamped_in_order_and_split_into_its_QoS0_and_QoS1_events()
    {
        var marker = new FlushMarker();
        EventEnvelope[] chunk = [Instant(1), Durable(2), Instant(3), new EventEnvelope(marker), Durable(4)];
        _processor.Input.Post(chunk);

        var instant = All(_toScheduler);
        var stored = All(_toStore);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(instant.SelectMany(m => m.Events).Select(e => e.Id), Is.EqualTo(new long[] { 1, 3 }), "QoS0 to the scheduler, one message");
            Assert.That(stored, Has.Count.EqualTo(1), "QoS1 events and the marker to the store, one message, in order");
            Assert.That(stored[0].Events.Select(e => e.Marker is null ? e.Id : -1), Is.EqualTo(new long[] { 2, -1, 4 }));
            Assert.That(chunk.Where(e => e.Marker is null).Select(e => e.Epoch), Is.All.Not.Null);
            Assert.That(marker.Sealed.IsCompleted, Is.True, "the marker sealed the epoch where it passed");
            Assert.That(chunk[0].EventGuid.ToByteArray(bigEndian: true)[..6], Is.EqualTo(Milliseconds(Tracked.AddSeconds(1))), "the UUIDv7 carries the time it was tracked");
        }
    }

    [Test]
    public void Chunk_of_one_class_goes_as_it_is()
    {
        EventEnvelope[] instant = [Instant(1), Instant(2)];
        EventEnvelope[] durable = [Durable(3)];
        _processor.Input.Post(instant);
        _processor.Input.Post(durable);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(All(_toScheduler).Single().Events, Is.SameAs(instant));
            Assert.That(All(_toStore).Single().Events, Is.SameAs(durable));
        }
    }

    [Test]
    public void Cancelled_QoS1_event_is_neither_stored_nor_numbered_and_its_caller_sees_the_cancellation()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var gone = Durable(1, cancelled.Token);
        var kept = Durable(2);
        _processor.Input.Post([gone, kept]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(All(_toStore).Single().Events, Is.EqualTo(new[] { kept }));
            Assert.That(kept.Id, Is.EqualTo(1));
            Assert.That(async () => await new ValueTask(gone, gone.Version), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(_counters.Cancelled, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Complete_finishes_after_the_chunks_posted_before()
    {
        _processor.Input.Post([Instant(1)]);
        _processor.Input.Complete();

        await _processor.Completion.WaitAsync(Timeouts.Guard());
        Assert.That(All(_toScheduler), Has.Count.EqualTo(1));
    }

    private static byte[] Milliseconds(DateTimeOffset time)
    {
        var ms = time.ToUnixTimeMilliseconds();
        var bytes = new byte[6];
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)ms;
            ms >>= 8;
        }

        return bytes;
    }

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
