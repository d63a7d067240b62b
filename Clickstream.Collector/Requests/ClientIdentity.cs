using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Clickstream.Collector.Requests;

/// <summary>
/// Who sent a request, as Raccoon identifies a client (core/identification): the id header and the group header,
/// the group defaulting to <c>--default--</c> when missing or empty.
/// </summary>
/// <param name="UserId">The id header's first value, null when the header is missing (Raccoon's gRPC handler tells the two apart).</param>
/// <param name="Group">The group header's first value, or <see cref="CollectorDefaults.DefaultUserGroup"/>.</param>
internal readonly record struct ClientIdentity(string? UserId, string Group)
{
    /// <summary>
    /// The key of the WebSocket connection table. Raccoon reads a missing id as "" (Go's <c>Header.Get</c>) and accepts
    /// it, so two connections without an id in one group are one identity, and the second is refused as a duplicate.
    /// </summary>
    public (string Id, string Group) Key => (UserId ?? string.Empty, Group);

    public static ClientIdentity From(IHeaderDictionary headers, CollectorSettings settings)
    {
        StringValues ids = headers[settings.UserIdHeader];
        StringValues groups = headers[settings.UserGroupHeader];
        string? group = groups.Count == 0 ? null : groups[0];
        return new ClientIdentity(
            ids.Count == 0 ? null : ids[0],
            string.IsNullOrEmpty(group) ? CollectorDefaults.DefaultUserGroup : group);
    }

    /// <summary>Raccoon's own rendering of an identifier, <c>[group] id</c>, which it puts in its rejection reasons.</summary>
    public override string ToString() => $"[{Group}] {UserId}";
}
