using Clickstream.Pipeline.Raccoon;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Reads a <c>SendEventResponse</c> the same way on every transport: only an ack of this very request
/// counts as delivered; everything else is a failure with a kind.
/// </summary>
internal static class RaccoonAck
{
    /// <param name="status">The HTTP status (200 where the protocol has none, as on WebSocket and gRPC).</param>
    /// <param name="response">The parsed response, or null when the body did not parse.</param>
    /// <param name="parseError">Why the body did not parse.</param>
    /// <param name="requestGuid">The request's own req_guid.</param>
    public static SendOutcome Classify(int status, SendEventResponse? response, string? parseError, Guid requestGuid)
    {
        var reason = response?.Reason is { Length: > 0 } r ? r : parseError;
        if (status is < 200 or >= 300)
        {
            return new SendOutcome(FailureClassifier.FromHttpStatus(status), status, reason);
        }

        if (response is null)
        {
            return new SendOutcome(SendResult.InvalidResponse, status, reason ?? "no response body");
        }

        if (response.Status != Status.Success || response.Code != Code.Ok)
        {
            // A bad request or an internal error carries the server's reason as it is; anything else says what it was.
            var detail = response.Code is Code.BadRequest or Code.InternalError ? reason : $"{response.Status}/{response.Code}: {response.Reason}";
            return new SendOutcome(FailureClassifier.FromRaccoonCode(response.Code), status, detail);
        }

        if (!response.Data.TryGetValue("req_guid", out var acknowledged) || !Guid.TryParse(acknowledged, out var ackGuid) || ackGuid != requestGuid)
        {
            return new SendOutcome(SendResult.InvalidResponse, status, $"ack names req_guid '{acknowledged}', not '{requestGuid}'");
        }

        return SendOutcome.Acknowledged;
    }
}
