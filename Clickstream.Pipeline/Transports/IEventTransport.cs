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

    /// <summary>The server refused the request (4xx, CODE_BAD_REQUEST).</summary>
    Rejected,

    /// <summary>A response that is not an ack of this request: unreadable, too large, or another req_guid.</summary>
    InvalidResponse,
}

/// <summary>The outcome of one request, with what the server said when it failed.</summary>
internal readonly record struct SendOutcome(SendResult Result, int StatusCode = 0, string? Detail = null)
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
