using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Processing;

public class EventProcessorTests
{
    private const int BatchSize = 10;
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);
    private FakeTimeProvider _time = null!;
    private EventScheduler _scheduler = null!;
    private EventProcessor _processor = null!;
    private BufferBlock<EventEnvelope[]> _batches = null!;
    private List<EventEnvelope> _stored = null!;
    private TaskCompletionSource _storedOne = null!;

    [SetUp]
    public void SetUp()
    {
        EnvelopePool.KeepUpTo(1_000);
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 5, 0, 0, TimeSpan.Zero));
        _scheduler = new EventScheduler(BatchSize, 1_000_000, MaxDelay, _time, NullLogger.Instance);
        _batches = new BufferBlock<EventEnvelope[]>();
        _scheduler.ConnectTo(_batches);
        _stored = [];
        _storedOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _processor = new EventProcessor(0, new DeliveryEpochs(0, 0), _time, new PipelineCounters(), NullLogger.Instance, Store, _scheduler, BatchSize, 1_000_000, MaxDelay);
        _scheduler.Attach(_processor);
    }

    [TearDown]
    public void TearDown()
    {
        _processor.Dispose();
        _scheduler.Dispose();
    }

    private void Store(EventEnvelope envelope)
    {
        _stored.Add(envelope);
        _storedOne.TrySetResult();
    }

    private static EventEnvelope Instant(int n)
    {
        var click = SampleEvents.Click(n);
        return EventEnvelope.RentInstant(Envelopes.Instant, click, click.CalculateSize());
    }

    [Test]
    public async Task QoS0_events_filling_a_batch_are_routed_and_cut_without_the_clock()
    {
        for (var i = 0; i < BatchSize; i++)
        {
            Assert.That(_processor.Post(Instant(i)), Is.True);
        }

        var batch = await _batches.ReceiveAsync(Timeouts.Guard());
        Assert.That(batch.Select(e => e.Id), Is.EqualTo(Enumerable.Range(1, BatchSize).Select(i => (long)i)));
    }

    [Test]
    public async Task QoS0_events_short_of_a_batch_wait_for_the_batch_delay_and_keep_the_time_they_were_tracked()
    {
        var tracked = _time.GetUtcNow();
        _processor.Post(Instant(1));
        _time.Advance(TimeSpan.FromSeconds(4));
        _processor.Post(Instant(2));
        _time.Advance(MaxDelay - TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
        Assert.That(_batches.Count + _scheduler.OpenCount, Is.Zero, "not routed before the delay after the first event");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var batch = await _batches.ReceiveAsync(Timeouts.Guard());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(batch, Has.Length.EqualTo(2));
            Assert.That(batch[0].TimestampTicks, Is.EqualTo(tracked.UtcTicks), "the time it was tracked, not when it was routed");
            Assert.That(batch[1].TimestampTicks, Is.EqualTo(tracked.AddSeconds(4).UtcTicks));
            Assert.That(batch[0].EventGuid.ToByteArray(bigEndian: true)[..6], Is.EqualTo(Milliseconds(tracked)));
        }
    }

    [Test]
    public async Task QoS1_event_is_routed_at_once_with_the_QoS0_events_before_it()
    {
        _processor.Post(Instant(1));
        _processor.Post(Instant(2));
        var durable = new EventEnvelope(Envelopes.Durable, new byte[10], CancellationToken.None);
        _processor.Post(durable);

        // The drain routes the QoS0 run before it hands the QoS1 event to the store.
        await _storedOne.Task.WaitAsync(Timeouts.Guard());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_stored, Is.EqualTo(new[] { durable }));
            Assert.That(durable.Id, Is.EqualTo(3), "ids in arrival order");
            Assert.That(_scheduler.OpenCount, Is.EqualTo(2), "the QoS0 events before it went to the open batch");
        }
    }

    [Test]
    public async Task Events_fed_from_the_store_that_fill_the_batch_with_deferred_QoS0_events_wake_the_processor()
    {
        for (var i = 0; i < 3; i++)
        {
            _processor.Post(Instant(i));
        }

        // Committed QoS1 events reach the scheduler from the store, not through the processor.
        var committed = Enumerable.Range(100, BatchSize - 3).Select(i => Envelopes.Make(i)).ToArray();
        _scheduler.EnqueueRange(committed);

        var batch = await _batches.ReceiveAsync(Timeouts.Guard());
        Assert.That(batch, Has.Length.EqualTo(BatchSize));
    }

    [Test]
    public async Task Complete_routes_the_deferred_QoS0_events()
    {
        _processor.Post(Instant(1));
        _processor.Post(Instant(2));
        _processor.Complete();

        await _processor.Completion.WaitAsync(Timeouts.Guard());
        Assert.That(_scheduler.OpenCount, Is.EqualTo(2));
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
