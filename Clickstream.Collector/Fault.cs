using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector;

/// <summary>
/// What a valid request gets instead of its SUCCESS answer, on each protocol. Immutable; pass it to
/// <see cref="CollectorFaults.FailNext(int, Fault)"/> or <see cref="CollectorFaults.FailRandomly(double, Fault, int?)"/>.
/// </summary>
/// <remarks>
/// <para>
/// By default a faulted request's events are not accepted (the request counts in <see cref="CollectorStats.FailedRequests"/>),
/// as when Raccoon fails to publish. <see cref="AfterAccepting"/> makes a fault that hits the answer only: the events are
/// accepted first, so that the client's retry is a duplicate, as when an answer is lost on the way back.
/// </para>
/// <para>
/// <see cref="CollectorFaults.Delay"/> holds a fault as it holds any answer: a reset comes after the delay.
/// <see cref="CollectorFaults.WithholdResponses"/> holds every fault but a reset, which answers nothing.
/// </para>
/// </remarks>
public sealed record Fault
{
    private const int MinErrorStatus = 400;
    private const int MaxErrorStatus = 599;

    private Fault(FaultKind kind, int statusCode, RetryAfter? retryAfter, bool acceptsEvents)
    {
        Kind = kind;
        StatusCode = statusCode;
        RetryAfter = retryAfter;
        AcceptsEvents = acceptsEvents;
    }

    /// <summary>
    /// 200 with STATUS_ERROR, CODE_INTERNAL_ERROR: a failure only the body tells (REST and WebSocket), an OK gRPC call
    /// with that SendEventResponse.
    /// </summary>
    public static Fault SoftError { get; } = new(FaultKind.SoftError, StatusCodes.Status200OK, retryAfter: null, acceptsEvents: false);

    /// <summary>
    /// No answer: the connection is aborted once the request is read. REST: <c>HttpContext.Abort()</c>, the client's
    /// call fails with <see cref="HttpRequestException"/>. WebSocket: the connection is dropped mid-batch (answers still
    /// held for it are lost). gRPC: the whole HTTP/2 connection is reset (other calls on it fail too), the call fails
    /// with <c>Unavailable</c>.
    /// </summary>
    public static Fault ConnectionReset { get; } = new(FaultKind.ConnectionReset, statusCode: 0, retryAfter: null, acceptsEvents: false);

    /// <summary>
    /// Half of a SUCCESS answer. REST: 200 with the whole answer's <c>Content-Length</c> and half the body, then the
    /// connection closes (reading the body fails with <see cref="HttpRequestException"/> or <see cref="IOException"/>:
    /// the response ended prematurely). WebSocket: half the answer in a frame that does not end the message, then the
    /// connection closed without a close handshake (if the answer was held by a delay, the close is an abort, which may
    /// beat the half answer to the client). gRPC: a message frame that declares the whole answer's length and carries half of it, then
    /// the call ends (the client fails to read the message).
    /// </summary>
    public static Fault TruncatedResponse { get; } = new(FaultKind.TruncatedResponse, StatusCodes.Status200OK, retryAfter: null, acceptsEvents: false);

    /// <summary>
    /// 200 with bytes that decode neither as protobuf nor as JSON, in the format the request asked for: REST with the
    /// echoed <c>Content-Type</c>, WebSocket in a frame of the request's type (valid UTF-8 in a text frame), gRPC as the
    /// response message of an OK call.
    /// </summary>
    public static Fault MalformedResponse { get; } = new(FaultKind.MalformedResponse, StatusCodes.Status200OK, retryAfter: null, acceptsEvents: false);

    /// <summary>What the request gets.</summary>
    public FaultKind Kind { get; }

    /// <summary>
    /// The HTTP status of the answer: the error status of <see cref="Status"/>, 200 for <see cref="SoftError"/>,
    /// <see cref="TruncatedResponse"/> and <see cref="MalformedResponse"/>, 0 for <see cref="ConnectionReset"/> (no answer).
    /// </summary>
    public int StatusCode { get; }

    /// <summary>The <c>Retry-After</c> of a <see cref="Status"/> fault, or null.</summary>
    public RetryAfter? RetryAfter { get; }

    /// <summary>Whether the request's events are accepted before the fault hits the answer (see <see cref="AfterAccepting"/>).</summary>
    public bool AcceptsEvents { get; }

    /// <summary>
    /// An HTTP error status with a STATUS_ERROR answer carrying the request's <c>req_guid</c>: CODE_BAD_REQUEST for a 4xx
    /// status, CODE_INTERNAL_ERROR for a 5xx one. On WebSocket, a STATUS_ERROR frame with that code (the connection stays
    /// open); on gRPC, the status <see cref="CollectorFaults"/> describes.
    /// </summary>
    /// <param name="statusCode">400 to 599, e.g. 500, 503, 429, 400.</param>
    /// <param name="retryAfter">A <c>Retry-After</c> to send with it (typically with 429 or 503), or null.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not an HTTP error status.</exception>
    public static Fault Status(int statusCode, RetryAfter? retryAfter = null)
    {
        ValidateErrorStatus(statusCode);
        return new Fault(FaultKind.ErrorStatus, statusCode, retryAfter, acceptsEvents: false);
    }

    /// <summary>
    /// This fault, hitting the answer only: the request's events are accepted (and counted in
    /// <see cref="CollectorStats.AcceptedRequests"/>) before it, so a client that sends them again sends duplicates.
    /// </summary>
    /// <returns>A copy with <see cref="AcceptsEvents"/> set.</returns>
    public Fault AfterAccepting() => new(Kind, StatusCode, RetryAfter, acceptsEvents: true);

    /// <summary>Throws unless <paramref name="statusCode"/> is 400 to 599.</summary>
    internal static void ValidateErrorStatus(int statusCode)
    {
        if (statusCode is < MinErrorStatus or > MaxErrorStatus)
        {
            throw new ArgumentOutOfRangeException(
                nameof(statusCode),
                statusCode,
                string.Create(CultureInfo.InvariantCulture, $"A fault's status code must be an HTTP error status, {MinErrorStatus} to {MaxErrorStatus}."));
        }
    }
}
