using Clickstream.Collector.Requests;
using Clickstream.Pipeline.Raccoon;
using Grpc.Core;
using GrpcStatus = Grpc.Core.Status;
using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector.Grpc;

/// <summary>
/// <c>raystack.raccoon.v1beta1.EventService/SendEvent</c>, unary, answering as Raccoon's gRPC handler
/// (raystack/raccoon server/grpc/handler.go) with async acks.
/// </summary>
/// <remarks>
/// Identity comes from metadata with the same names as the WebSocket headers. Without the id key, Raccoon fails the
/// call with a plain Go error, which grpc-go sends as status Unknown, "connection id header missing"; so does this
/// handler (an empty id is accepted, as Raccoon accepts it, unless <see cref="CollectorOptions.RequireIdentity"/>).
/// A missing or wrong bearer token is Unauthenticated. Faults map as <see cref="GrpcFaultStatus"/> says.
/// </remarks>
internal sealed class EventServiceHandler(
    CollectorSettings settings,
    AccessPolicy access,
    RequestAcceptor acceptor,
    CollectorStats stats) : EventService.EventServiceBase
{
    public override async Task<SendEventResponse> SendEvent(SendEventRequest request, ServerCallContext context)
    {
        stats.OnRequest();
        HttpContext http = context.GetHttpContext();
        IHeaderDictionary headers = http.Request.Headers;
        var identity = ClientIdentity.From(headers, settings);
        string? authorization = headers.Authorization.Count == 0 ? null : headers.Authorization[0];

        AccessDecision decision = access.Check(authorization, identity);
        if (decision == AccessDecision.BadToken)
        {
            stats.OnRejected();
            throw new RpcException(new GrpcStatus(StatusCode.Unauthenticated, AccessPolicy.BadTokenReason));
        }

        if (decision == AccessDecision.MissingIdentity || identity.UserId is null)
        {
            stats.OnRejected();
            throw new RpcException(new GrpcStatus(StatusCode.Unknown, AccessPolicy.MissingIdentityReason));
        }

        RequestOutcome outcome = acceptor.Process(request, new RequestOrigin(CollectorProtocol.Grpc, identity, authorization));
        try
        {
            await acceptor.HoldAnswerAsync(context.CancellationToken);
        }
        catch (OperationCanceledException) when (acceptor.Stopping.IsCancellationRequested)
        {
            // The collector stops with this answer withheld: the call ends as a server going away ends it.
            http.Abort();
            throw new RpcException(new GrpcStatus(StatusCode.Unavailable, "The collector stopped."));
        }

        if (outcome.Failed && GrpcFaultStatus.For(outcome.StatusCode) is { } status)
        {
            throw new RpcException(new GrpcStatus(status, outcome.Response.Reason));
        }

        acceptor.Stamp(outcome.Response);
        return outcome.Response;
    }
}
