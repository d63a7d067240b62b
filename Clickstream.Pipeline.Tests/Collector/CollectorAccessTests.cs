using System.Net;
using System.Net.WebSockets;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Grpc.Core;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;
using Status = Clickstream.Raccoon.Status;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary><see cref="CollectorOptions.BearerToken"/> and <see cref="CollectorOptions.RequireIdentity"/> on all three protocols.</summary>
[CancelAfter(30_000)]
public class CollectorAccessTests : GrpcCollectorTestBase
{
    private const string Token = "s3cret";
    private const string GoodAuthorization = "Bearer " + Token;

    protected override CollectorOptions CreateOptions() => new() { GrpcPort = 0, BearerToken = Token, RequireIdentity = true };

    [TestCase(null, TestName = "Rest_without_token_answers_401_with_a_bearer_challenge")]
    [TestCase("Bearer wrong", TestName = "Rest_with_a_wrong_token_answers_401_with_a_bearer_challenge")]
    public async Task Rest_bad_token_answers_401(string? authorization)
    {
        using HttpResponseMessage response = await PostAsync(Batch("r-1", pageViews: 1), authorization, userId: "user-1");
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Is.EqualTo("missing or invalid bearer token"));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Events, Is.Zero);
        }
    }

    [Test]
    public async Task Rest_with_token_but_without_id_answers_401_connection_id_header_missing()
    {
        using HttpResponseMessage response = await PostAsync(Batch("r-1", pageViews: 1), GoodAuthorization, userId: null);
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(response.Headers.WwwAuthenticate, Is.Empty);
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Is.EqualTo("connection id header missing"));
        }
    }

    [Test]
    public async Task Rest_with_token_and_id_is_accepted_and_records_them()
    {
        using HttpResponseMessage response = await PostAsync(Batch("r-1", pageViews: 2), GoodAuthorization, userId: "user-1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(_collector.Stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.Rest, "r-1", "user-1", "--default--", GoodAuthorization, EventCount: 2),
            }));
        }
    }

    [TestCase(null, "user-1", TestName = "WebSocket_without_token_is_refused_401_before_the_upgrade")]
    [TestCase(GoodAuthorization, null, TestName = "WebSocket_without_id_is_refused_401_before_the_upgrade")]
    public void WebSocket_refused_before_the_upgrade(string? authorization, string? userId)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (authorization is not null)
        {
            socket.Options.SetRequestHeader("Authorization", authorization);
        }

        if (userId is not null)
        {
            socket.Options.SetRequestHeader(UserIdHeader, userId);
        }

        Assert.That(async () => await socket.ConnectAsync(_collector.WebSocketEndpoint, Guard()), Throws.InstanceOf<WebSocketException>());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(socket.HttpStatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(_collector.Stats.RejectedWebSocketConnections, Is.EqualTo(1));
            Assert.That(_collector.Stats.OpenWebSocketConnections, Is.Zero);
        }
    }

    [Test]
    public async Task WebSocket_with_token_and_id_is_accepted_and_records_them()
    {
        using ClientWebSocket socket = await ConnectAsync(
            _collector.WebSocketEndpoint, "user-1", "ios", options => options.SetRequestHeader("Authorization", GoodAuthorization));

        await SendAsync(socket, Batch("w-1", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(socket);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.WebSocket, "w-1", "user-1", "ios", GoodAuthorization, EventCount: 1),
            }));
        }
    }

    [TestCase(null, TestName = "Grpc_without_token_fails_unauthenticated")]
    [TestCase("Bearer wrong", TestName = "Grpc_with_a_wrong_token_fails_unauthenticated")]
    public async Task Grpc_bad_token_fails_unauthenticated(string? authorization)
    {
        RpcException? failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await _grpc.SendEventAsync(Batch("g-1", pageViews: 1), Identity("user-1", authorization: authorization), cancellationToken: Guard()));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Grpc_with_token_and_an_empty_id_fails_when_identity_is_required()
    {
        RpcException? failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await _grpc.SendEventAsync(Batch("g-1", pageViews: 1), Identity(string.Empty, authorization: GoodAuthorization), cancellationToken: Guard()));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.Unknown));
            Assert.That(failure.Status.Detail, Is.EqualTo("connection id header missing"));
        }
    }

    [Test]
    public async Task Grpc_with_token_and_id_is_accepted_and_records_them()
    {
        SendEventResponse answer = await _grpc.SendEventAsync(
            Batch("g-1", pageViews: 3), Identity("user-1", authorization: GoodAuthorization), cancellationToken: Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(_collector.Stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.Grpc, "g-1", "user-1", "--default--", GoodAuthorization, EventCount: 3),
            }));
        }
    }

    private async Task<HttpResponseMessage> PostAsync(SendEventRequest request, string? authorization, string? userId)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _collector.EventsEndpoint);
        message.Content = new ByteArrayContent(Google.Protobuf.MessageExtensions.ToByteArray(request));
        message.Content.Headers.TryAddWithoutValidation("Content-Type", Proto);
        if (authorization is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (userId is not null)
        {
            message.Headers.Add(UserIdHeader, userId);
        }

        return await Http.SendAsync(message, Guard());
    }
}
