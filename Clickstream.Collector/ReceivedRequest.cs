namespace Clickstream.Collector;

/// <summary>One request the collector accepted (kept when <see cref="CollectorOptions.KeepEvents"/> is on).</summary>
/// <param name="Protocol">The protocol it arrived on.</param>
/// <param name="RequestGuid">Its <c>req_guid</c>.</param>
/// <param name="UserId">
/// The value of the <see cref="CollectorOptions.UserIdHeader"/> header (gRPC metadata, WebSocket upgrade header), or
/// null when there was none.
/// </param>
/// <param name="UserGroup">
/// The value of the <see cref="CollectorOptions.UserGroupHeader"/> header, or Raccoon's default group <c>--default--</c>
/// when there was none or it was empty.
/// </param>
/// <param name="Authorization">The <c>Authorization</c> header as sent (of the upgrade request, for WebSocket), or null.</param>
/// <param name="EventCount">How many events it carried.</param>
public sealed record ReceivedRequest(
    CollectorProtocol Protocol,
    string RequestGuid,
    string? UserId,
    string? UserGroup,
    string? Authorization,
    int EventCount);
