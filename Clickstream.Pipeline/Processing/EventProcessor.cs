using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// The head of the flow, a Dataflow <see cref="TransformBlock{TInput,TOutput}"/> run on one thread so that
/// ids grow in arrival order: stamps each event (id, UUIDv7, time, delivery epoch) and routes it, QoS1 to
/// the store, QoS0 to the scheduler. A flush marker seals the delivery epoch where it passes and follows
/// the QoS1 events to the store.
/// </summary>
internal sealed class EventProcessor
{
    private readonly TransformBlock<EventEnvelope, EventEnvelope> _block;
    private readonly DeliveryEpochs _epochs;
    private readonly TimeProvider _timeProvider;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;
    private long _lastId;

    public EventProcessor(
        long lastId,
        DeliveryEpochs epochs,
        TimeProvider timeProvider,
        PipelineCounters counters,
        ILogger logger,
        ITargetBlock<EventEnvelope> store,
        ITargetBlock<EventEnvelope> scheduler)
    {
        _lastId = lastId;
        _epochs = epochs;
        _timeProvider = timeProvider;
        _counters = counters;
        _logger = logger;
        _block = new TransformBlock<EventEnvelope, EventEnvelope>(
            Process,
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, EnsureOrdered = true });
        _block.LinkTo(store, static e => e.Route == EventRoute.Store);
        _block.LinkTo(scheduler, static e => e.Route == EventRoute.Scheduler);
        _block.LinkTo(DataflowBlock.NullTarget<EventEnvelope>());
    }

    public Task Completion => _block.Completion;

    /// <summary>Accepts an event or a marker; false once the processor is completed (the pipeline is disposed).</summary>
    public bool Post(EventEnvelope envelope) => _block.Post(envelope);

    /// <summary>No more input; <see cref="Completion"/> completes once everything posted has been routed.</summary>
    public void Complete() => _block.Complete();

    private EventEnvelope Process(EventEnvelope envelope)
    {
        // Nothing may escape: an exception would fault the block and stop the pipeline for good.
        try
        {
            if (envelope.Marker is { } marker)
            {
                var sealedEpoch = _epochs.Seal(_lastId);
                marker.SetSealed(sealedEpoch.Completion);
                envelope.Route = EventRoute.Store;
                return envelope;
            }

            // A QoS0 caller was answered when the event was accepted; only a QoS1 caller still waits, and
            // its event is neither stored nor sent once its token is cancelled.
            if (envelope.Durable && envelope.CancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _counters.Cancelled);
                envelope.Route = EventRoute.Discard;
                envelope.SetFailed(new OperationCanceledException(envelope.CancellationToken));
                return envelope;
            }

            var now = _timeProvider.GetUtcNow();
            envelope.Id = ++_lastId;
            envelope.EventGuid = Guid.CreateVersion7(now);
            envelope.TimestampTicks = now.UtcTicks;
            var epoch = _epochs.Current;
            epoch.Add();
            envelope.Epoch = epoch;
            envelope.Route = envelope.Durable ? EventRoute.Store : EventRoute.Scheduler;
            return envelope;
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "processor", ex);
            envelope.Route = EventRoute.Discard;
            if (envelope.Durable)
            {
                envelope.SetFailed(ex);
            }

            return envelope;
        }
    }
}
