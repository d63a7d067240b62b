using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Storage;

internal enum StoreCommandKind
{
    /// <summary>Write the request record naming the batch's QoS1 events, before the send.</summary>
    BeginRequest,

    /// <summary>The server acknowledged: delete the record and its events in one transaction.</summary>
    Acknowledge,

    /// <summary>The send failed: delete the record; the events are pending again.</summary>
    Release,
}

/// <summary>A request-record operation for the writer thread; one per batch, never per event.</summary>
internal sealed class StoreCommand
{
    public StoreCommand(StoreCommandKind kind, Guid requestGuid, EventEnvelope[] events)
    {
        Kind = kind;
        RequestGuid = requestGuid;
        Events = events;
    }

    public StoreCommandKind Kind { get; }

    public Guid RequestGuid { get; }

    /// <summary>The batch; only its QoS1 events are stored.</summary>
    public EventEnvelope[] Events { get; }

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
