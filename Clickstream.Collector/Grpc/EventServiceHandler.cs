using System.Globalization;
using Clickstream.Collector.Hosting;
using Clickstream.Collector.Requests;
using Clickstream.Raccoon;
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
/// A missing or wrong bearer token is Unauthenticated. Faults map as <see cref="GrpcFaultStatus"/> and
/// <see cref="Fault"/> say.
/// </remarks>
internal sealed class EventServiceHandler(
    CollectorSettings settings,
    AccessPolicy access,
    RequestAcceptor acceptor,
    CollectorStats stats,
    ConnectionRegistry connections) : EventService.EventServiceBase
{
    // gRFC A6: how long the server asks the client to wait before it retries.
    private const string RetryPushbackTrailer = "grpc-retry-pushback-ms";
    private const string RetryAfterTrailer = "retry-after";

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
            await acceptor.HoldAnswerAsync(outcome.Fault, context.CancellationToken);
        }
        catch (OperationCanceledException) when (acceptor.Stopping.IsCancellationRequested)
        {
            // The collector stops with this answer withheld: the call ends as a server going away ends it.
            http.Abort();
            throw new RpcException(new GrpcStatus(StatusCode.Unavailable, "The collector stopped."));
        }

        acceptor.Stamp(outcome.Response);
        switch (outcome.Fault)
        {
            case { Kind: FaultKind.ConnectionReset }:
                throw Reset(http);
            case { Kind: FaultKind.TruncatedResponse }:
                await GrpcFaultFrames.WriteTruncatedAsync(http, outcome.Response, context.CancellationToken);

                // An exception, not a return: the call ends OK without a message of gRPC's own after ours.
                throw new RpcException(GrpcStatus.DefaultSuccess);
            case { Kind: FaultKind.MalformedResponse }:
                await GrpcFaultFrames.WriteMalformedAsync(http, context.CancellationToken);
                throw new RpcException(GrpcStatus.DefaultSuccess);
            case { RetryAfter: { } retryAfter }:
                context.ResponseTrailers.Add(RetryAfterTrailer, acceptor.RetryAfterHeader(retryAfter));
                context.ResponseTrailers.Add(RetryPushbackTrailer, ((long)acceptor.RetryAfterDelay(retryAfter).TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
                break;
        }

        if (outcome.Failed && GrpcFaultStatus.For(outcome.StatusCode) is { } status)
        {
            throw new RpcException(new GrpcStatus(status, outcome.Response.Reason));
        }

        return outcome.Response;
    }

    /// <summary>Resets the call's whole HTTP/2 connection, as a network failure would; the exception is for gRPC, the client sees the reset.</summary>
    private RpcException Reset(HttpContext http)
    {
        if (!connections.Reset(http.Connection.Id))
        {
            http.Abort();
        }

        return new RpcException(new GrpcStatus(StatusCode.Unavailable, "Reset by an injected fault."));
    }
}
