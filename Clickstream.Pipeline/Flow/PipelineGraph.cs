using System.Threading.Channels;
using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Egress;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Flow;

/// <summary>
/// The pipeline's flow, built and linked in one place. Data walks one way:
/// <code>
///   TrackAsync ──► ingress (Channel)
///                    │ chunks of events, in the order they were tracked
///                    ▼
///                processor (TransformManyBlock: ids, UUIDv7, delivery epoch, route)
///                    ├── QoS1 events + flush markers ──► store (ActionBlock → the writer thread: group commit)
///                    │                                     │ committed events, events read back, flushes
///                    ▼ QoS0 events                         ▼
///                scheduler (TransformManyBlock + timer + reachability gate: BatchCutter) ◄── failed batches (Retry)
///                    │ batches                                                                        ▲
///                    ▼                                                                                │
///                egress (ActionBlock: request record, send, ack → delete) ────────────────────────────┘
/// </code>
/// The one edge that runs backwards is a failed batch going back to the scheduler after its backoff, as a message.
/// </summary>
/// <remarks>
/// Messages carry chunks of events, never one event: each block takes a lock per message, and a chunk spreads it.
/// The processor and the store stage run inline (<see cref="InlineTaskScheduler"/>) on the pump's thread: a chunk goes
/// from the channel to the store's queue with no thread-pool hop, since each hop between blocks would be a dispatch on
/// the critical path of every QoS1 commit (see ARCHITECTURE, Decisions: the graph).
/// The store stage hands each chunk to the store's own writer thread: LiteDB transactions belong to the thread that
/// began them, and one thread doing every write also orders commits, acks and evictions without a lock.
/// </remarks>
internal sealed class PipelineGraph
{
    /// <summary>The most events one chunk carries from the ingress to the processor.</summary>
    internal const int MaxChunk = 1024;

    /// <summary>Below this many QoS0 events read, the pump yields before it parks, up to <see cref="LingerYields"/> times.</summary>
    private const int LingerChunk = 64;

    private const int LingerYields = 4;

    private readonly Channel<EventEnvelope> _ingress;
    private readonly EventProcessor _processor;
    private readonly ActionBlock<FlowMessage> _store;
    private readonly EventScheduler _scheduler;
    private readonly EgressController _egress;
    private readonly ILogger _logger;
    private readonly Task _pump;

    public PipelineGraph(
        EventProcessor processor,
        EventStore store,
        EventScheduler scheduler,
        EgressController egress,
        InstantBudget budget,
        DeliveryEpochs epochs,
        EventTypeRegistry types,
        ILogger logger)
    {
        _processor = processor;
        _scheduler = scheduler;
        _egress = egress;
        _logger = logger;
        _ingress = Channel.CreateUnbounded<EventEnvelope>(new UnboundedChannelOptions { SingleReader = true });
        _store = new ActionBlock<FlowMessage>(message => store.Enqueue(message.Events), new ExecutionDataflowBlockOptions { TaskScheduler = InlineTaskScheduler.Instance });

        var propagate = new DataflowLinkOptions { PropagateCompletion = true };
        processor.Output.LinkTo(_store, propagate, static m => m.Kind == FlowMessageKind.ToStore);

        // Not propagated: the scheduler also takes the store's output, retries, its timer and the gate.
        processor.Output.LinkTo(scheduler.Input, static m => m.Kind == FlowMessageKind.Instant);
        store.Start(scheduler.Input, epochs, types);
        scheduler.Output.LinkTo(egress.Input, propagate);
        scheduler.WatchGate(egress.OnGateChanged);

        // A caller waiting for QoS0 room: the open batch goes now (a message, like a flush), not when its timer fires.
        budget.Waiting = () => scheduler.Input.Post(FlowMessage.Flush());
        _pump = PumpAsync();
    }

    /// <summary>Takes a tracked event or a flush marker; false once the ingress is completed (the pipeline disposed).</summary>
    public bool TryWrite(EventEnvelope envelope) => _ingress.Writer.TryWrite(envelope);

    /// <summary>No more input: completes once everything written before has reached the store or the scheduler.</summary>
    public async Task CompleteIngressAsync()
    {
        _ingress.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        await _processor.Completion.ConfigureAwait(false);
        await _store.Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// Stops delivery: the scheduler completes (what it held stays: QoS1 on disk, QoS0 counted as dropped), the egress
    /// after it, and the sends in flight are cancelled. Completes with the egress, the tail of the graph.
    /// </summary>
    public Task StopAsync()
    {
        _scheduler.Complete();
        _egress.Stop();
        return _egress.Completion;
    }

    private async Task PumpAsync()
    {
        var reader = _ingress.Reader;
        var chunk = new List<EventEnvelope>(MaxChunk);
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                for (var yields = 0; ; yields++)
                {
                    var urgent = false;
                    while (reader.TryRead(out var envelope))
                    {
                        chunk.Add(envelope);
                        urgent |= envelope.Durable || envelope.Marker is not null;
                        if (chunk.Count == MaxChunk)
                        {
                            Post(chunk);
                        }
                    }

                    // A few QoS0 events only: let more come before parking. A write to a parked reader is the
                    // writer's thread-pool dispatch, the largest part of a QoS0 caller's cost when the pump keeps
                    // up one event at a time (docs/ARCHITECTURE.md, Decisions: "the pump lingers for QoS0").
                    // A QoS1 caller or a flush waits on this chunk, so it goes at once.
                    if (urgent || chunk.Count == 0 || chunk.Count >= LingerChunk || yields == LingerYields)
                    {
                        break;
                    }

                    await Task.Yield();
                }

                Post(chunk);
            }

            Post(chunk);
        }
        catch (Exception ex)
        {
            // Only a bug gets here; the processor still completes, so that shutdown does not wait for it.
            Log.StageFailed(_logger, "ingress", ex);
        }
        finally
        {
            _processor.Input.Complete();
        }
    }

    /// <summary>Gives the processor what was read as one chunk.</summary>
    private void Post(List<EventEnvelope> read)
    {
        if (read.Count > 0)
        {
            _processor.Input.Post(read.ToArray());
            read.Clear();
        }
    }
}
