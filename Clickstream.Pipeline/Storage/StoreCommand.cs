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

    /// <summary>The server refused this one event for good: move it from the events to the dead letters.</summary>
    DeadLetter,

    /// <summary>Delete the dead letters named by <see cref="StoreCommand.DeadLetterIds"/> (all of them when null).</summary>
    DeleteDeadLetters,
}

/// <summary>A request-record operation for the writer thread; one per batch, never per event.</summary>
internal sealed class StoreCommand
{
    public StoreCommand(StoreCommandKind kind, Guid requestGuid, EventEnvelope[] events, string? reason = null)
    {
        Kind = kind;
        RequestGuid = requestGuid;
        Events = events;
        Reason = reason;
    }

    /// <summary>Why the server refused the event (dead letters only).</summary>
    public string? Reason { get; }

    public StoreCommandKind Kind { get; }

    public Guid RequestGuid { get; }

    /// <summary>The batch; only its QoS1 events are stored.</summary>
    public EventEnvelope[] Events { get; }

    /// <summary>The dead letters to delete (<see cref="StoreCommandKind.DeleteDeadLetters"/>); null: all.</summary>
    public long[]? DeadLetterIds { get; init; }

    /// <summary>What the command changed, set before <see cref="Done"/> completes: the dead letters deleted.</summary>
    public int Affected { get; set; }

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
