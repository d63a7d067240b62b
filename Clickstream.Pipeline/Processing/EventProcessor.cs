using System.Buffers.Binary;
using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// The processor stage: stamps each event of a chunk (id, UUIDv7, delivery epoch) and routes it, QoS1 to the store,
/// QoS0 to the scheduler. A flush marker seals the delivery epoch where it passes and follows the QoS1 events to the
/// store. One chunk at a time, so ids grow in the order the events were tracked.
/// </summary>
/// <remarks>
/// A chunk gives at most two messages, in this order: its QoS0 events (to the scheduler), then its QoS1 events and
/// markers (to the store). A marker's flush reaches the scheduler only after the store, so the QoS0 events tracked
/// before it are always in the scheduler first.
/// </remarks>
internal sealed class EventProcessor
{
    private readonly TransformManyBlock<EventEnvelope[], FlowMessage> _block;
    private readonly DeliveryEpochs _epochs;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;

    // Ids and UUIDs are only touched by the block's one running delegate.
    private readonly Random _random = new();
    private long _lastId;

    public EventProcessor(long lastId, DeliveryEpochs epochs, PipelineCounters counters, ILogger logger, TaskScheduler? taskScheduler = null)
    {
        // taskScheduler: where the block runs; tests pass one that runs each chunk at once, on the poster's thread.
        _lastId = lastId;
        _epochs = epochs;
        _counters = counters;
        _logger = logger;
        _block = new TransformManyBlock<EventEnvelope[], FlowMessage>(Process, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, TaskScheduler = taskScheduler ?? TaskScheduler.Default });
    }

    /// <summary>Where chunks of tracked events and markers come in, in the order they were tracked.</summary>
    public ITargetBlock<EventEnvelope[]> Input => _block;

    /// <summary>QoS0 chunks (<see cref="FlowMessageKind.Instant"/>) and QoS1 chunks (<see cref="FlowMessageKind.ToStore"/>).</summary>
    public ISourceBlock<FlowMessage> Output => _block;

    public Task Completion => _block.Completion;

    /// <summary>Writes a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, variant 10, 74 random bits.</summary>
    /// <remarks>
    /// <see cref="Guid.CreateVersion7(DateTimeOffset)"/> draws its random bits from the OS generator, a system call
    /// per event; an id needs uniqueness, not unpredictability, so a <see cref="Random"/> seeded by the OS does.
    /// </remarks>
    internal static Guid NewUuidV7(long unixMilliseconds, Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes[6..]);
        BinaryPrimitives.WriteInt64BigEndian(bytes[..8], (unixMilliseconds << 16) | BinaryPrimitives.ReadUInt16BigEndian(bytes[6..8]));
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    private IEnumerable<FlowMessage> Process(EventEnvelope[] chunk)
    {
        var instant = 0;
        var toStore = 0;
        foreach (var envelope in chunk)
        {
            Stamp(envelope);
            if (envelope.Route == EventRoute.Scheduler)
            {
                instant++;
            }
            else if (envelope.Route == EventRoute.Store)
            {
                toStore++;
            }
        }

        if (instant == chunk.Length)
        {
            return [FlowMessage.Instant(chunk)];
        }

        if (toStore == chunk.Length)
        {
            return [FlowMessage.ToStore(chunk)];
        }

        var messages = new List<FlowMessage>(2);
        if (instant > 0)
        {
            messages.Add(FlowMessage.Instant(EventEnvelope.Where(chunk, instant, static e => e.Route == EventRoute.Scheduler)));
        }

        if (toStore > 0)
        {
            messages.Add(FlowMessage.ToStore(EventEnvelope.Where(chunk, toStore, static e => e.Route == EventRoute.Store)));
        }

        return messages;
    }

    private void Stamp(EventEnvelope envelope)
    {
        // Nothing may escape: an exception would fault the block and strand the events behind it.
        try
        {
            if (envelope.Marker is { } marker)
            {
                var sealedEpoch = _epochs.Seal(_lastId);
                marker.SetSealed(sealedEpoch.Completion);
                envelope.Route = EventRoute.Store;
                return;
            }

            if (envelope.DeadLetterId == 0)
            {
                // A requeued dead letter was counted when it was tracked.
                envelope.TypeInfo.CountTracked();
            }

            // A QoS0 caller was answered when the event was accepted; only a QoS1 caller still waits, and
            // its event is neither stored nor sent once its token is cancelled.
            if (envelope.Durable && envelope.CancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _counters.Cancelled);
                envelope.Route = EventRoute.Discard;
                envelope.SetFailed(new OperationCanceledException(envelope.CancellationToken));
                return;
            }

            envelope.Id = ++_lastId;
            envelope.EventGuid = NewUuidV7((envelope.TimestampTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond, _random);
            var epoch = _epochs.Current;
            epoch.Add();
            envelope.Epoch = epoch;
            envelope.Route = envelope.Durable ? EventRoute.Store : EventRoute.Scheduler;
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "processor", ex);
            envelope.Route = EventRoute.Discard;
            if (envelope.Durable)
            {
                envelope.SetFailed(ex);
            }
        }
    }
}
