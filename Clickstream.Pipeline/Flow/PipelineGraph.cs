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
    /// <summary>The most events one chunk carries from the ingress to the processor (fewer when a batch is smaller).</summary>
    internal const int MaxChunk = 1024;

    /// <summary>The longest the pump lingers between two reads (less when the batch delay is short).</summary>
    private static readonly TimeSpan MaxLinger = TimeSpan.FromMilliseconds(10);

    private readonly Channel<EventEnvelope> _ingress;
    private readonly EventProcessor _processor;
    private readonly ActionBlock<FlowMessage> _store;
    private readonly EventScheduler _scheduler;
    private readonly EgressController _egress;
    private readonly IngressLinger? _linger;
    private readonly InstantBudget _budget;
    private readonly ILogger _logger;
    private readonly Task _pump;
    private readonly ChunkPool _chunks;
    private int _pending;
    private int _urgent;
    private long _forwarded;
    private volatile bool _completing;

    public PipelineGraph(
        EventProcessor processor,
        EventStore store,
        EventScheduler scheduler,
        EgressController egress,
        InstantBudget budget,
        DeliveryEpochs epochs,
        EventTypeRegistry types,
        ChunkPool chunks,
        TimeProvider time,
        ILogger logger)
    {
        _processor = processor;
        _scheduler = scheduler;
        _egress = egress;
        _budget = budget;
        _logger = logger;
        _chunks = chunks;
        _ingress = Channel.CreateUnbounded<EventEnvelope>(new UnboundedChannelOptions { SingleReader = true });
        _store = new ActionBlock<FlowMessage>(message => store.Enqueue(message.Events), new ExecutionDataflowBlockOptions { TaskScheduler = InlineTaskScheduler.Instance });

        var propagate = new DataflowLinkOptions { PropagateCompletion = true };
        processor.Output.LinkTo(_store, propagate, static m => m.Kind == FlowMessageKind.ToStore);

        // Not propagated: the scheduler also takes the store's output, retries, its timer and the gate.
        processor.Output.LinkTo(scheduler.Input, static m => m.Kind == FlowMessageKind.Instant);
        store.Start(scheduler.Input, epochs, types);
        scheduler.Output.LinkTo(egress.Input, propagate);
        scheduler.WatchGate(egress.OnGateChanged);

        // Half the batch delay at most: the scheduler counts a QoS0 batch's delay from its first event's TrackAsync, so
        // what lingers here still goes within the delay.
        var linger = scheduler.MaxDelay / 2 < MaxLinger ? scheduler.MaxDelay / 2 : MaxLinger;
        _linger = linger > TimeSpan.Zero ? new IngressLinger(time, linger) : null;

        // A caller waiting for QoS0 room: the open batch goes now (a message, like a flush), not when its timer fires.
        budget.Waiting = () =>
        {
            Urge();
            scheduler.Input.Post(FlowMessage.Flush());
        };
        _pump = PumpAsync();
    }

    /// <summary>
    /// The length of the ingress's chunks for batches of <paramref name="maxBatchSize"/>: a chunk of QoS0 events a batch
    /// long is the array the scheduler fills its next batch into once it has read it.
    /// </summary>
    public static int ChunkLength(int maxBatchSize) => Math.Min(MaxChunk, maxBatchSize);

    /// <summary>
    /// Takes a tracked event or a flush marker; false once the ingress is completed (the pipeline disposed). A QoS1
    /// event or a marker wakes a lingering pump; QoS0 events wake it once they would fill the open batch.
    /// </summary>
    public bool TryWrite(EventEnvelope envelope)
    {
        if (!_ingress.Writer.TryWrite(envelope))
        {
            return false;
        }

        if (!envelope.IsInstant)
        {
            // Its writer waits for the commit (or the flush): the pump reads on its thread, without a dispatch.
            Interlocked.Exchange(ref _urgent, 1);
            _linger?.WakeOnWriter();
        }
        else
        {
            var pending = Interlocked.Increment(ref _pending);
            if (_linger is { IsWaiting: true } && InstantNeedRead(pending))
            {
                _linger.Wake(inline: false);
            }
        }

        return true;
    }

    /// <summary>No more input: completes once everything written before has reached the store or the scheduler.</summary>
    public async Task CompleteIngressAsync()
    {
        _completing = true;
        _ingress.Writer.TryComplete();
        Urge();
        await _pump.ConfigureAwait(false);
        await _processor.Completion.ConfigureAwait(false);
        await _store.Completion.ConfigureAwait(false);
        _linger?.Dispose();
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

    /// <summary>
    /// Reads the ingress. Parked on the channel while it is empty, so that the first event after a quiet spell goes at
    /// once; after a read that found events it lingers instead (<see cref="IngressLinger"/>), and events written
    /// meanwhile are read together: a write to a parked reader is a thread-pool dispatch on the writer's thread, the
    /// largest part of a QoS0 caller's cost when the pump keeps up one event at a time (docs/ARCHITECTURE.md,
    /// Decisions: "The pump lingers between reads"). QoS1 events, flush markers, a full batch's worth of QoS0 events and a
    /// caller waiting for room end the linger at once, and so do QoS0 events over the memory bound with
    /// <see cref="ClickstreamQueueFullMode.DropOldest"/>: the scheduler drops the oldest only once they reach it.
    /// </summary>
    private async Task PumpAsync()
    {
        var reader = _ingress.Reader;
        var chunk = new Chunk(_chunks);
        try
        {
            // On a writer's thread (IngressLinger.WakeOnWriter) the pump reads once, then leaves it to the thread pool.
            var onWriter = false;
            while (true)
            {
                var more = reader.WaitToReadAsync();
                onWriter &= more.IsCompleted;
                if (!await more.ConfigureAwait(false))
                {
                    break;
                }

                while (Read(reader, chunk) > 0 && _linger is not null && !_completing)
                {
                    var wait = _linger.StartAsync();
                    if (Volatile.Read(ref _urgent) != 0 || _completing || InstantNeedRead(Volatile.Read(ref _pending)))
                    {
                        _linger.Wake(inline: !onWriter);
                    }

                    await wait.ConfigureAwait(false);
                    onWriter = _linger.ResumedOnWriter;
                }
            }
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

    /// <summary>Reads what the ingress holds and gives it to the processor in chunks, in order; returns how many.</summary>
    private int Read(ChannelReader<EventEnvelope> reader, Chunk chunk)
    {
        // Reset before reading: a reason set after this is for events this read may miss, so it stands.
        Interlocked.Exchange(ref _urgent, 0);
        Interlocked.Exchange(ref _pending, 0);
        var read = 0;
        var instant = 0;
        while (reader.TryRead(out var envelope))
        {
            chunk.Add(envelope);
            read++;
            instant += envelope.IsInstant ? 1 : 0;
            if (chunk.IsFull)
            {
                Post(chunk, ref instant);
            }
        }

        Post(chunk, ref instant);
        return read;
    }

    /// <summary>
    /// Whether the QoS0 events waiting in the ingress are to be read now: they fill a batch, or they are over the memory
    /// bound with <see cref="ClickstreamQueueFullMode.DropOldest"/> (the scheduler drops the oldest once they reach it).
    /// </summary>
    private bool InstantNeedRead(int pending) => FillsBatch(pending) || _budget.HasExcess;

    /// <summary>
    /// Whether <paramref name="pending"/> QoS0 events in the ingress complete the batch the scheduler will have open
    /// once it has what was forwarded already. Whole batches among the forwarded events are cut without the pump, so
    /// they do not count: counting them had the pump read again at once after each full batch, a few events a read,
    /// until the scheduler caught up. A timer or a flush cutting while this reads may make it wrong by that batch: a
    /// read then waits for the linger, never longer.
    /// </summary>
    private bool FillsBatch(int pending) =>
        CompletesBatch(pending, Volatile.Read(ref _forwarded), _scheduler.InstantSettled, _scheduler.MaxBatchSize);

    /// <summary>
    /// Whether <paramref name="pending"/> more events complete the open batch, <paramref name="forwarded"/> events having
    /// gone to a scheduler that has settled (cut, held or dropped) <paramref name="settled"/> of them.
    /// </summary>
    internal static bool CompletesBatch(int pending, long forwarded, long settled, int maxBatchSize) =>
        pending + ((forwarded - settled) % maxBatchSize) >= maxBatchSize;

    /// <summary>A QoS1 event, a marker or a waiting caller: the pump reads now.</summary>
    private void Urge()
    {
        Interlocked.Exchange(ref _urgent, 1);
        _linger?.Wake(inline: false);
    }

    /// <summary>Gives the processor what was read as one chunk; the QoS0 events in it are counted as on their way first.</summary>
    private void Post(Chunk read, ref int instant)
    {
        if (read.Count > 0)
        {
            Volatile.Write(ref _forwarded, _forwarded + instant);
            instant = 0;
            _processor.Input.Post(read.Take());
        }
    }

    /// <summary>
    /// The chunk being read into: an array from the <see cref="ChunkPool"/>. A full one is posted as it is and a new one
    /// rented; a partial one is posted as a copy of its length and the array kept for the next read.
    /// </summary>
    private sealed class Chunk(ChunkPool pool)
    {
        private EventEnvelope[] _array = pool.Rent();

        public int Count { get; private set; }

        public bool IsFull => Count == _array.Length;

        public void Add(EventEnvelope envelope) => _array[Count++] = envelope;

        public EventEnvelope[] Take()
        {
            EventEnvelope[] taken;
            if (IsFull)
            {
                taken = _array;
                _array = pool.Rent();
            }
            else
            {
                taken = _array.AsSpan(0, Count).ToArray();
                Array.Clear(_array, 0, Count);
            }

            Count = 0;
            return taken;
        }
    }
}
