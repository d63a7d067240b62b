namespace Clickstream.Pipeline;

/// <summary>
/// A QoS1 event the server refused on its own (after its batch was split to isolate it). It is kept, with the
/// reason, in the store's dead letters (the newest <see cref="ClickstreamOptions.MaxDeadLetters"/>) instead of being
/// retried forever: read them with <see cref="ClickstreamPipeline.GetDeadLetters"/>, send them again with
/// <see cref="ClickstreamPipeline.RequeueDeadLettersAsync"/> once the cause is
/// fixed, or delete them with <see cref="ClickstreamPipeline.DeleteDeadLettersAsync"/>.
/// </summary>
public sealed class ClickstreamDeadLetter
{
    /// <summary>The dead letter's key in the store, to requeue or delete it by; larger for events tracked later.</summary>
    public required long Id { get; init; }

    /// <summary>The event's id (UUIDv7).</summary>
    public required Guid EventGuid { get; init; }

    /// <summary>Its Raccoon type.</summary>
    public required string Type { get; init; }

    /// <summary>When it was tracked.</summary>
    public required DateTimeOffset TrackedAt { get; init; }

    /// <summary>When it was moved to the dead letters.</summary>
    public required DateTimeOffset DeadLetteredAt { get; init; }

    /// <summary>What the server answered.</summary>
    public required string Reason { get; init; }

    /// <summary>The serialized event, as the app tracked it.</summary>
    public required byte[] EventBytes { get; init; }
}
