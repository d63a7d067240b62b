using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Transports;

/// <summary>What became of a request.</summary>
internal enum SendResult
{
    /// <summary>2xx, STATUS_SUCCESS, CODE_OK and the request's own <c>req_guid</c>.</summary>
    Acknowledged,

    /// <summary>The connection failed before a response.</summary>
    NetworkError,

    /// <summary>No response within the request timeout.</summary>
    Timeout,

    /// <summary>The server answered 5xx or CODE_INTERNAL_ERROR.</summary>
    ServerError,

    /// <summary>The server refused what the request carries (400, 413, 422, CODE_BAD_REQUEST, gRPC InvalidArgument): split to isolate.</summary>
    Rejected,

    /// <summary>The server asked to slow down (429, gRPC ResourceExhausted): transient, honours Retry-After.</summary>
    Throttled,

    /// <summary>The credentials were refused (401, 403, gRPC Unauthenticated or PermissionDenied): transient, a token can rotate.</summary>
    Unauthorized,

    /// <summary>A response that is not an ack of this request: unreadable, too large, or another req_guid.</summary>
    InvalidResponse,

    /// <summary>
    /// The deployment is wrong: 404, 405, 407, 415 and other 4xx that are not about the events, a TLS or DNS failure,
    /// gRPC Unimplemented or NotFound. Retried with backoff; never dead-lettered.
    /// </summary>
    Misconfigured,

    /// <summary>Code in the send path that is not the transport's threw: the app's token provider, a handler, a header.</summary>
    AppError,
}

/// <summary>The outcome of one request, with what the server said when it failed.</summary>
/// <param name="Result">The kind.</param>
/// <param name="StatusCode">The HTTP status, or the gRPC status code for gRPC failures.</param>
/// <param name="Detail">The server's reason or the error, for the log.</param>
/// <param name="RetryAfter">The server's Retry-After, relative to now, when it sent one.</param>
/// <param name="Abandoned">The send never ended and was given up: it may still read its batch.</param>
internal readonly record struct SendOutcome(SendResult Result, int StatusCode = 0, string? Detail = null, TimeSpan? RetryAfter = null, bool Abandoned = false)
{
    public bool IsAcknowledged => Result == SendResult.Acknowledged;

    public static SendOutcome Acknowledged { get; } = new(SendResult.Acknowledged);
}

/// <summary>
/// The seam between the egress controller and the wire: turns a batch into an acknowledged or failed
/// outcome. A transport never throws for a failed send; it reports the failure.
/// </summary>
internal interface IEventTransport : IDisposable
{
    Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken);
}
