namespace Clickstream.Collector;

/// <summary>One event the collector accepted (kept when <see cref="CollectorOptions.KeepEvents"/> is on).</summary>
/// <param name="RequestGuid">The <c>req_guid</c> of the request that carried the event.</param>
/// <param name="Type">The event's Raccoon <c>type</c> (the Kafka topic it would be routed to).</param>
/// <param name="Bytes">The event's <c>event_bytes</c>: the app's own serialized protobuf event.</param>
public sealed record ReceivedEvent(string RequestGuid, string Type, byte[] Bytes);
