namespace Clickstream.Pipeline;

/// <summary>
/// A QoS1 event the server refused on its own (400 or CODE_BAD_REQUEST after its batch was split to isolate
/// it). It is kept, with the reason, in the store's dead letters (the newest 10,000) instead of being retried
/// forever; read them with <see cref="ClickstreamPipeline.GetDeadLetters"/>.
/// </summary>
/// <param name="EventGuid">The event's id (UUIDv7).</param>
/// <param name="Type">Its Raccoon type.</param>
/// <param name="TrackedAt">When it was tracked.</param>
/// <param name="DeadLetteredAt">When it was moved to the dead letters.</param>
/// <param name="Reason">What the server answered.</param>
/// <param name="EventBytes">The serialized event, as the app tracked it.</param>
public sealed record ClickstreamDeadLetter(Guid EventGuid, string Type, DateTimeOffset TrackedAt, DateTimeOffset DeadLetteredAt, string Reason, byte[] EventBytes);
