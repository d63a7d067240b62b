using Clickstream.Pipeline.Raccoon;
using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector.Requests;

/// <summary>Where a decoded request came from, for <see cref="CollectorStats.ReceivedRequests"/>.</summary>
internal readonly record struct RequestOrigin(CollectorProtocol Protocol, ClientIdentity Identity, string? Authorization);

/// <summary>The answer to a decoded request, and the HTTP status it stands for (200, or an injected fault's).</summary>
internal readonly record struct RequestOutcome(int StatusCode, SendEventResponse Response)
{
    public bool Failed => StatusCode != StatusCodes.Status200OK;
}

/// <summary>
/// The step every protocol shares once a request decoded: an injected failure, or accepted and recorded with a
/// SUCCESS answer (Raccoon's async ack); then the wait <see cref="CollectorFaults"/> puts before the answer.
/// </summary>
internal sealed class RequestAcceptor(CollectorStats stats, CollectorFaults faults, TimeProvider timeProvider, CancellationToken stopping)
{
    public const string RequestGuidKey = "req_guid";

    // Injected faults look like Raccoon's sync-ack publish failure ("cannot publish events: %s").
    private const string InjectedInternalErrorReason = "cannot publish events: injected fault";
    private const string InjectedBadRequestReason = "injected fault";

    /// <summary>Signaled when the collector stops: held answers give up, and their requests are aborted.</summary>
    public CancellationToken Stopping => stopping;

    public static SendEventResponse Error(Code code, string reason) =>
        new() { Status = Status.Error, Code = code, Reason = reason };

    /// <summary>Decides a decoded request's fate, consuming one <see cref="CollectorFaults.FailNext"/> if it fails.</summary>
    public RequestOutcome Process(SendEventRequest request, in RequestOrigin origin)
    {
        if (faults.TryTakeFailure(out int faultStatus))
        {
            stats.OnFailed();
            SendEventResponse failure = faultStatus < StatusCodes.Status500InternalServerError
                ? Error(Code.BadRequest, InjectedBadRequestReason)
                : Error(Code.InternalError, InjectedInternalErrorReason);
            failure.Data.Add(RequestGuidKey, request.ReqGuid);
            return new RequestOutcome(faultStatus, failure);
        }

        stats.OnAccepted(request, origin);
        string ackGuid = faults.RespondWithWrongRequestGuid ? "not-" + request.ReqGuid : request.ReqGuid;
        var success = new SendEventResponse
        {
            Status = Status.Success,
            Code = Code.Ok,
            Data = { { RequestGuidKey, ackGuid } },
        };
        return new RequestOutcome(StatusCodes.Status200OK, success);
    }

    /// <summary>
    /// Waits as <see cref="CollectorFaults.Delay"/> and <see cref="CollectorFaults.WithholdResponses"/> say; completes at
    /// once when both are off. Canceled by <paramref name="aborted"/> or when the collector stops (<see cref="Stopping"/>).
    /// </summary>
    public ValueTask HoldAnswerAsync(CancellationToken aborted) =>
        faults.IsHoldingAnswers ? HoldSlowAsync(aborted) : ValueTask.CompletedTask;

    /// <summary>Sets <c>sent_time</c>, as Raccoon does when it writes the answer.</summary>
    public void Stamp(SendEventResponse response) => response.SentTime = timeProvider.GetUtcNow().ToUnixTimeSeconds();

    private async ValueTask HoldSlowAsync(CancellationToken aborted)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        await faults.HoldAnswerAsync(timeProvider, linked.Token).ConfigureAwait(false);
    }
}
