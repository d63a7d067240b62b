using Clickstream.Raccoon;
using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector.Requests;

/// <summary>Where a decoded request came from, for <see cref="CollectorStats.ReceivedRequests"/>.</summary>
internal readonly record struct RequestOrigin(CollectorProtocol Protocol, ClientIdentity Identity, string? Authorization);

/// <summary>
/// The answer to a decoded request: the HTTP status it stands for (200, or a fault's), the SendEventResponse, and the
/// fault that hits it, if any. For a fault that loses or garbles the answer (reset, truncated, malformed), the response is
/// the SUCCESS answer the client would have got.
/// </summary>
internal readonly record struct RequestOutcome(int StatusCode, SendEventResponse Response, Fault? Fault = null)
{
    /// <summary>Whether the status is an error one.</summary>
    public bool Failed => StatusCode >= StatusCodes.Status400BadRequest;
}

/// <summary>
/// The step every protocol shares once a request decoded: an injected fault, or accepted and recorded with a
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

    /// <summary>Decides a decoded request's fate, consuming one <see cref="CollectorFaults.FailNext(int, Fault)"/> if it fails.</summary>
    public RequestOutcome Process(SendEventRequest request, in RequestOrigin origin)
    {
        Fault? fault = faults.TakeFault();
        if (fault is null)
        {
            return Accept(request, origin);
        }

        stats.OnFault(fault.Kind);
        if (fault.AcceptsEvents)
        {
            stats.OnAccepted(request, origin);
        }
        else
        {
            stats.OnFailed();
        }

        SendEventResponse response;
        switch (fault.Kind)
        {
            case FaultKind.ErrorStatus:
                response = fault.StatusCode < StatusCodes.Status500InternalServerError
                    ? Error(Code.BadRequest, InjectedBadRequestReason)
                    : Error(Code.InternalError, InjectedInternalErrorReason);
                response.Data.Add(RequestGuidKey, request.ReqGuid);
                break;
            case FaultKind.SoftError:
                response = Error(Code.InternalError, InjectedInternalErrorReason);
                response.Data.Add(RequestGuidKey, request.ReqGuid);
                break;
            default:
                response = Success(request.ReqGuid);
                break;
        }

        return new RequestOutcome(fault.StatusCode, response, fault);
    }

    /// <summary>
    /// Waits as <see cref="CollectorFaults.Delay"/> and <see cref="CollectorFaults.WithholdResponses"/> say (a reset,
    /// which answers nothing, is not withheld); completes at once when both are off. Canceled by
    /// <paramref name="aborted"/> or when the collector stops (<see cref="Stopping"/>).
    /// </summary>
    public ValueTask HoldAnswerAsync(Fault? fault, CancellationToken aborted)
    {
        bool isAnswer = fault?.Kind != FaultKind.ConnectionReset;
        return faults.IsHolding(isAnswer) ? HoldSlowAsync(isAnswer, aborted) : ValueTask.CompletedTask;
    }

    /// <summary>Sets <c>sent_time</c>, as Raccoon does when it writes the answer.</summary>
    public void Stamp(SendEventResponse response) => response.SentTime = timeProvider.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>The <c>Retry-After</c> header value for an answer sent now.</summary>
    public string RetryAfterHeader(RetryAfter retryAfter) => retryAfter.HeaderValue(timeProvider.GetUtcNow());

    /// <summary>How long a client should wait after an answer sent now, for gRPC's <c>grpc-retry-pushback-ms</c>.</summary>
    public TimeSpan RetryAfterDelay(RetryAfter retryAfter) => retryAfter.DelayFrom(timeProvider.GetUtcNow());

    private static SendEventResponse Success(string ackGuid) => new()
    {
        Status = Status.Success,
        Code = Code.Ok,
        Data = { { RequestGuidKey, ackGuid } },
    };

    private RequestOutcome Accept(SendEventRequest request, in RequestOrigin origin)
    {
        stats.OnAccepted(request, origin);
        string ackGuid = request.ReqGuid;
        if (faults.RespondWithWrongRequestGuid)
        {
            stats.OnFault(FaultKind.WrongRequestGuid);
            ackGuid = "not-" + ackGuid;
        }

        return new RequestOutcome(StatusCodes.Status200OK, Success(ackGuid));
    }

    private async ValueTask HoldSlowAsync(bool isAnswer, CancellationToken aborted)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        await faults.HoldAsync(isAnswer, linked.Token).ConfigureAwait(false);
    }
}
