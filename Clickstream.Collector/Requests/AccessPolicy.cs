using System.Security.Cryptography;
using System.Text;

namespace Clickstream.Collector.Requests;

/// <summary>What <see cref="AccessPolicy"/> decided about a request or a WebSocket upgrade.</summary>
internal enum AccessDecision
{
    Allowed,

    /// <summary>A bearer token is required and the request has none, or another one.</summary>
    BadToken,

    /// <summary>An identity is required and the request has no (or an empty) id header.</summary>
    MissingIdentity,
}

/// <summary>
/// The collector's own access rules, <see cref="CollectorOptions.BearerToken"/> and <see cref="CollectorOptions.RequireIdentity"/>:
/// what a gateway in front of Raccoon would check. Pure: no I/O.
/// </summary>
internal sealed class AccessPolicy
{
    public const string BadTokenReason = "missing or invalid bearer token";

    /// <summary>Raccoon's own error text when its gRPC handler finds no id metadata.</summary>
    public const string MissingIdentityReason = "connection id header missing";

    private const string BearerScheme = "Bearer";

    private readonly byte[]? _token;
    private readonly bool _requireIdentity;

    public AccessPolicy(string? bearerToken, bool requireIdentity)
    {
        _token = bearerToken is null ? null : Encoding.UTF8.GetBytes(bearerToken);
        _requireIdentity = requireIdentity;
    }

    /// <summary>The token rule first (as a gateway would refuse before anything else), then the identity rule.</summary>
    public AccessDecision Check(string? authorization, ClientIdentity identity)
    {
        if (_token is not null && !CarriesToken(authorization, _token))
        {
            return AccessDecision.BadToken;
        }

        if (_requireIdentity && string.IsNullOrEmpty(identity.UserId))
        {
            return AccessDecision.MissingIdentity;
        }

        return AccessDecision.Allowed;
    }

    private static bool CarriesToken(string? authorization, byte[] token)
    {
        // RFC 6750: "Bearer" (the scheme is case-insensitive), one or more spaces, the token.
        if (authorization is null
            || authorization.Length <= BearerScheme.Length
            || !authorization.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase)
            || authorization[BearerScheme.Length] != ' ')
        {
            return false;
        }

        ReadOnlySpan<char> presented = authorization.AsSpan(BearerScheme.Length).TrimStart(' ');
        int length = Encoding.UTF8.GetByteCount(presented);
        if (length != token.Length)
        {
            return false;
        }

        // Compared in constant time, as a token should be, even in a test server.
        Span<byte> bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(presented, bytes);
        return CryptographicOperations.FixedTimeEquals(bytes, token);
    }
}
