using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Google.Protobuf;

namespace Clickstream.Pipeline.Flow;

/// <summary>
/// What <see cref="ClickstreamPipeline.TrackAsync"/> does with a valid message: serializes it at once (the caller may
/// reuse it as soon as the call returns) and writes it to the graph's ingress, QoS1 into the exact array the store
/// keeps, QoS0 into a pooled buffer within the memory bound (<see cref="InstantBudget"/>).
/// </summary>
internal sealed class EventIntake
{
    private readonly PipelineGraph _graph;
    private readonly EventTypeRegistry _types;
    private readonly InstantBudget _budget;
    private readonly PipelineCounters _counters;
    private readonly TimeProvider _time;

    public EventIntake(PipelineGraph graph, EventTypeRegistry types, InstantBudget budget, PipelineCounters counters, TimeProvider time)
    {
        _graph = graph;
        _types = types;
        _budget = budget;
        _counters = counters;
        _time = time;
    }

    /// <summary>
    /// Writes <paramref name="message"/>, <paramref name="size"/> bytes serialized, to the ingress. QoS1: completes
    /// once committed. QoS0: completes at once, or, with <see cref="ClickstreamQueueFullMode.Wait"/>, once there is room.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The ingress is complete: the pipeline is being disposed.</exception>
    public ValueTask WriteAsync(IMessage message, int size, CancellationToken cancellationToken)
    {
        var type = _types.Get(message.Descriptor);
        var timestamp = _time.GetUtcNow().UtcTicks;
        if (type.Durable)
        {
            var bytes = size == 0 ? [] : new byte[size];
            message.WriteTo(bytes.AsSpan());
            var durable = new EventEnvelope(type, bytes, cancellationToken) { TimestampTicks = timestamp };
            if (!_graph.TryWrite(durable))
            {
                throw new ObjectDisposedException(nameof(ClickstreamPipeline));
            }

            Interlocked.Increment(ref _counters.DurableTracked);
            return new ValueTask(durable, durable.Version);
        }

        var room = _budget.TakeAsync(cancellationToken);
        if (room.IsCompletedSuccessfully && !room.Result)
        {
            Interlocked.Increment(ref _counters.DroppedOverflow);
            return default;
        }

        // Serialized now, into a pooled envelope's buffer (returned by the egress after the outcome), even when the
        // caller waits for room below: the message is the caller's again as soon as this returns.
        var envelope = EventEnvelope.RentInstant(type, message, size);
        envelope.TimestampTicks = timestamp;
        if (!room.IsCompletedSuccessfully)
        {
            return WriteWhenRoomAsync(room, envelope);
        }

        WriteInstant(envelope);
        return default;
    }

    /// <summary>QoS0 with <see cref="ClickstreamQueueFullMode.Wait"/>: the event goes in once there is room.</summary>
    private async ValueTask WriteWhenRoomAsync(ValueTask<bool> room, EventEnvelope envelope)
    {
        try
        {
            await room.ConfigureAwait(false);
        }
        catch
        {
            EnvelopePool.Return([envelope]);
            throw;
        }

        WriteInstant(envelope);
    }

    private void WriteInstant(EventEnvelope envelope)
    {
        if (!_graph.TryWrite(envelope))
        {
            _budget.Release(1);
            EnvelopePool.Return([envelope]);
            throw new ObjectDisposedException(nameof(ClickstreamPipeline));
        }

        Interlocked.Increment(ref _counters.InstantTracked);
    }
}
