using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Clickstream.Pipeline.Raccoon;
using Grpc.Core;

namespace Clickstream.Pipeline.Transports;

/// <summary>How the egress treats a failed request: the one classification shared by every transport.</summary>
internal enum FailureClass
{
    /// <summary>The server, the network or the app's own code failed for now: retry the batch whole after the backoff.</summary>
    Transient,

    /// <summary>
    /// The deployment is wrong (path, method, credentials, proxy, content type, TLS, DNS, gRPC service): retry with
    /// backoff up to the cap while the events wait on disk, report it as a configuration error; never dead-letter.
    /// </summary>
    Configuration,

    /// <summary>
    /// The server refused what the request carries (400, 413, 422, CODE_BAD_REQUEST, gRPC InvalidArgument): split the
    /// batch to isolate the bad events; a lone refused event is dead-lettered only while the endpoint acknowledges
    /// other requests (otherwise the server refuses everything, and that is a configuration fault, not bad events).
    /// </summary>
    Rejection,
}

/// <summary>
/// Turns what each transport sees when a request fails (an HTTP status, a Raccoon <c>Status</c>/<c>Code</c>, a gRPC
/// status, an exception from the network, TLS, DNS or the app's own code in the send path) into a
/// <see cref="SendResult"/>, and each <see cref="SendResult"/> into a <see cref="FailureClass"/>. Pure: no I/O, no
/// state; docs/ARCHITECTURE.md has the table.
/// </summary>
internal static class FailureClassifier
{
    /// <summary>The class of a failure kind; <see cref="SendResult.Acknowledged"/> is not a failure and has none.</summary>
    public static FailureClass ClassOf(SendResult result) => result switch
    {
        SendResult.Rejected => FailureClass.Rejection,
        SendResult.Unauthorized or SendResult.Misconfigured => FailureClass.Configuration,
        _ => FailureClass.Transient,
    };

    /// <summary>The kind of a non-2xx HTTP status (a REST response, or a WebSocket upgrade refused).</summary>
    public static SendResult FromHttpStatus(int status) => status switch
    {
        408 => SendResult.Timeout,
        429 => SendResult.Throttled,
        401 or 403 => SendResult.Unauthorized,

        // What the request carries: too large, or not understood. Splitting can get the rest through.
        400 or 413 or 422 => SendResult.Rejected,

        // Every other 4xx says the request went to the wrong place or in the wrong way (404 path, 405 method, 407 proxy
        // credentials, 415 content type, 410 gone...): no event is at fault, so none may be dead-lettered for it.
        >= 400 and < 500 => SendResult.Misconfigured,
        >= 500 => SendResult.ServerError,
        _ => SendResult.InvalidResponse,
    };

    /// <summary>The kind of a Raccoon <c>Code</c> in a response that is not an ack (<see cref="Code.Ok"/> has none).</summary>
    public static SendResult FromRaccoonCode(Code code) => code switch
    {
        Code.BadRequest => SendResult.Rejected,

        // The server's connection or per-user cap (WebSocket): another connection, later, gets through.
        Code.MaxConnectionLimitReached or Code.MaxUserLimitReached => SendResult.NetworkError,
        _ => SendResult.ServerError,
    };

    /// <summary>The kind of a gRPC status other than OK.</summary>
    public static SendResult FromGrpc(StatusCode code) => code switch
    {
        StatusCode.DeadlineExceeded => SendResult.Timeout,
        StatusCode.Unavailable or StatusCode.Cancelled => SendResult.NetworkError,
        StatusCode.ResourceExhausted => SendResult.Throttled,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => SendResult.Unauthorized,

        // A wrong service path (GrpcServiceName), an older server, or a proxy that routes nowhere.
        StatusCode.Unimplemented or StatusCode.NotFound => SendResult.Misconfigured,
        StatusCode.InvalidArgument or StatusCode.OutOfRange or StatusCode.FailedPrecondition => SendResult.Rejected,
        _ => SendResult.ServerError,
    };

    /// <summary>
    /// An exception that ended a send. Network, TLS and DNS failures are told apart; anything else came from code in
    /// the send path that is not the transport's (the app's <c>AuthorizationProvider</c>, a <c>DelegatingHandler</c>,
    /// a resilience handler's broken circuit or rejected timeout, a header): a transient failure of that batch.
    /// </summary>
    public static SendOutcome FromException(Exception exception)
    {
        var detail = exception.GetType().Name + ": " + exception.Message;
        return exception switch
        {
            RpcException rpc => new SendOutcome(FromGrpc(rpc.StatusCode), (int)rpc.StatusCode, $"{rpc.StatusCode}: {rpc.Status.Detail}"),
            HttpRequestException http => new SendOutcome(FromHttpRequestError(http), (int?)http.StatusCode ?? 0, detail),
            AuthenticationException => new SendOutcome(SendResult.Misconfigured, Detail: "TLS: " + detail),
            SocketException socket => new SendOutcome(FromSocketError(socket.SocketErrorCode), Detail: detail),
            IOException when Find<AuthenticationException>(exception) is not null => new SendOutcome(SendResult.Misconfigured, Detail: "TLS: " + detail),
            IOException => new SendOutcome(SendResult.NetworkError, Detail: detail),

            // A WebSocket connect wraps what really failed (refused, DNS, TLS) in an exception of its own.
            WebSocketException { InnerException: { } inner } => FromException(inner) with { Detail = detail },
            WebSocketException => new SendOutcome(SendResult.NetworkError, Detail: detail),

            // Not the caller's cancellation (the egress checks its own token first): the app's handler or a timeout
            // policy of its own gave up on the request.
            OperationCanceledException or TimeoutException => new SendOutcome(SendResult.Timeout, Detail: detail),
            _ => new SendOutcome(SendResult.AppError, Detail: detail),
        };
    }

    private static SendResult FromHttpRequestError(HttpRequestException exception)
    {
        if (exception.StatusCode is { } status && (int)status >= 400)
        {
            return FromHttpStatus((int)status);
        }

        return exception.HttpRequestError switch
        {
            // A name that does not exist is a wrong endpoint; "try again" is a resolver that cannot be reached (offline).
            HttpRequestError.NameResolutionError => Find<SocketException>(exception) is { SocketErrorCode: SocketError.TryAgain }
                ? SendResult.NetworkError
                : SendResult.Misconfigured,
            HttpRequestError.SecureConnectionError => SendResult.Misconfigured,

            // A proxy that refused the CONNECT (407 and the like comes with a status, handled above).
            HttpRequestError.ProxyTunnelError => SendResult.Misconfigured,
            _ when Find<AuthenticationException>(exception) is not null => SendResult.Misconfigured,
            _ when Find<SocketException>(exception) is { } socket => FromSocketError(socket.SocketErrorCode),
            _ => SendResult.NetworkError,
        };
    }

    private static SendResult FromSocketError(SocketError error) =>
        error is SocketError.HostNotFound or SocketError.NoData ? SendResult.Misconfigured : SendResult.NetworkError;

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
