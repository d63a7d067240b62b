using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector.Grpc;

/// <summary>
/// How an injected fault's HTTP status shows on gRPC (see <see cref="CollectorFaults"/>). Pure: tested on its own.
/// </summary>
internal static class GrpcFaultStatus
{
    /// <summary>
    /// The gRPC status for <paramref name="httpStatus"/>, or null for 500: Raccoon's own answer to a failed publish,
    /// an OK call carrying a STATUS_ERROR, CODE_INTERNAL_ERROR SendEventResponse (server/grpc/handler.go).
    /// </summary>
    public static StatusCode? For(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status500InternalServerError => null,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status404NotFound or StatusCodes.Status501NotImplemented => StatusCode.Unimplemented,
        StatusCodes.Status408RequestTimeout => StatusCode.DeadlineExceeded,
        StatusCodes.Status409Conflict => StatusCode.Aborted,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout => StatusCode.Unavailable,
        < StatusCodes.Status500InternalServerError => StatusCode.InvalidArgument,
        _ => StatusCode.Internal,
    };
}
