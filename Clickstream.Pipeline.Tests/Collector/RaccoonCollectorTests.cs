using System.Net;
using System.Net.Sockets;
using System.Text;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Clickstream.Samples;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

[CancelAfter(30_000)]
public class RaccoonCollectorTests : CollectorTestBase
{
    protected override CollectorOptions CreateOptions() => new() { TimeProvider = new FakeTimeProvider(Now) };

    [Test]
    public void StartAsync_default_options_listen_on_an_ephemeral_loopback_port()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.BaseAddress.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(_collector.BaseAddress.Port, Is.Not.Zero);
            Assert.That(_collector.EventsEndpoint, Is.EqualTo(new Uri(_collector.BaseAddress, "/api/v1/events")));
        }
    }

    [Test]
    public async Task Post_proto_batch_is_accepted_with_its_req_guid_and_recorded()
    {
        SendEventRequest request = Batch("req-proto", pageViews: 3, clicks: 2);

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, request);
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo(Proto));
            Assert.That(answer.Status, Is.EqualTo(Status.Success));
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("req-proto"));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds()));
            Assert.That(answer.Reason, Is.Empty);
            Assert.That(stats.Requests, Is.EqualTo(1));
            Assert.That(stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(stats.Events, Is.EqualTo(5));
            Assert.That(stats.EventsByType(), Is.EquivalentTo(new Dictionary<string, long> { ["pageview"] = 3, ["click"] = 2 }));
            Assert.That(stats.RequestIds(), Is.EqualTo(new[] { "req-proto" }));
            Assert.That(stats.ReceivedEvents(), Has.Count.EqualTo(5));
            Assert.That(stats.ReceivedEvents()[0].RequestGuid, Is.EqualTo("req-proto"));
            Assert.That(stats.ReceivedEvents()[0].Type, Is.EqualTo("pageview"));
            Assert.That(stats.ReceivedEvents()[4].Type, Is.EqualTo("click"));
            Assert.That(stats.ReceivedEvents()[0].Bytes, Is.EqualTo(SampleEvents.PageView(0).ToByteArray()));
            Assert.That(stats.ReceivedEvents()[4].Bytes, Is.EqualTo(SampleEvents.Click(1).ToByteArray()));
            Assert.That(stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.Rest, "req-proto", UserId: null, "--default--", Authorization: null, EventCount: 5),
            }));
        }
    }

    [Test]
    public async Task Post_records_the_identity_headers_and_authorization_without_requiring_them()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _collector.EventsEndpoint);
        message.Content = new ByteArrayContent(Batch("req-id", pageViews: 1).ToByteArray());
        message.Content.Headers.TryAddWithoutValidation("Content-Type", Proto);
        message.Headers.Add("x-user-id", "user-7");
        message.Headers.Add("X-User-Group", "web");
        message.Headers.TryAddWithoutValidation("Authorization", "Bearer anything");

        using HttpResponseMessage response = await Http.SendAsync(message, Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(_collector.Stats.ReceivedRequests(), Is.EqualTo(new[]
            {
                new ReceivedRequest(CollectorProtocol.Rest, "req-id", "user-7", "web", "Bearer anything", EventCount: 1),
            }));
        }
    }

    [Test]
    public async Task Post_json_batch_is_accepted_and_answered_in_json()
    {
        SendEventRequest request = Batch("req-json", pageViews: 2);

        using HttpResponseMessage response = await PostAsync(Http, _collector.EventsEndpoint, ToJson(request), Json);
        string body = await response.Content.ReadAsStringAsync(Guard());
        SendEventResponse answer = RaccoonJson.ReadResponse(Encoding.UTF8.GetBytes(body));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo(Json));
            Assert.That(body, Is.EqualTo("""{"status":1,"code":1,"sent_time":1790000000,"data":{"req_guid":"req-json"}}"""));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("req-json"));
            Assert.That(_collector.Stats.Events, Is.EqualTo(2));
            Assert.That(_collector.Stats.ReceivedEvents()[1].Bytes, Is.EqualTo(SampleEvents.PageView(1).ToByteArray()));
        }
    }

    [Test]
    public async Task Post_empty_proto_body_is_accepted_as_an_empty_request_like_raccoon()
    {
        using HttpResponseMessage response = await PostAsync(Http, _collector.EventsEndpoint, [], Proto);
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
            Assert.That(answer.Data["req_guid"], Is.Empty);
            Assert.That(_collector.Stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Events, Is.Zero);
        }
    }

    private static readonly int CollectorDefaultsLimit = new CollectorOptions().MaxRequestBytes;

    [Test]
    public async Task Post_large_batch_arriving_in_many_reads_is_accepted()
    {
        // About 3 MB: well past Kestrel's 1 MB request buffer, so the body is consumed in many reads; under the 4 MiB limit.
        SendEventRequest request = Batch("req-large", pageViews: 15_000);

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, request);
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Data["req_guid"], Is.EqualTo("req-large"));
            Assert.That(request.CalculateSize(), Is.GreaterThan(2_000_000).And.LessThan(CollectorDefaultsLimit));
            Assert.That(_collector.Stats.Events, Is.EqualTo(15_000));
            Assert.That(_collector.Stats.ReceivedEvents()[14_999].Bytes, Is.EqualTo(SampleEvents.PageView(14_999).ToByteArray()));
        }
    }

    [TestCase("text/plain", TestName = "Post_text_plain_answers_400_bad_request_in_json")]
    [TestCase("application/x-protobuf", TestName = "Post_x_protobuf_answers_400_bad_request_in_json")]
    [TestCase("application/json; charset=utf-8", TestName = "Post_json_with_charset_answers_400_bad_request_like_raccoon")]
    [TestCase("Application/Proto", TestName = "Post_content_type_in_other_case_answers_400_bad_request_like_raccoon")]
    public async Task Post_unknown_content_type_answers_400_bad_request_in_json(string contentType)
    {
        byte[] body = Batch("req-bad-type", pageViews: 1).ToByteArray();

        using HttpResponseMessage response = await PostAsync(Http, _collector.EventsEndpoint, body, contentType);
        SendEventResponse answer = await ReadAnswerAsync(response, Json);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo(contentType), "Raccoon echoes the request's type");
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Is.EqualTo("invalid content type"));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds()));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Events, Is.Zero);
        }
    }

    [Test]
    public async Task Post_without_content_type_answers_400_bad_request()
    {
        using HttpResponseMessage response = await PostAsync(Http, _collector.EventsEndpoint, [1, 2, 3], contentType: null);
        SendEventResponse answer = await ReadAnswerAsync(response, Json);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Is.EqualTo("invalid content type"));
        }
    }

    [TestCase(Proto, new byte[] { 0x0A, 0xFF, 0x01 }, TestName = "Post_truncated_proto_answers_400_deserialization_failure")]
    [TestCase(Proto, new byte[] { 0x1A, 0x02, 0x0A, 0x05 }, TestName = "Post_proto_event_overrunning_its_length_answers_400_deserialization_failure")]
    [TestCase(Json, new byte[] { (byte)'}', (byte)'{', (byte)'}' }, TestName = "Post_malformed_json_answers_400_deserialization_failure")]
    [TestCase(Json, new byte[0], TestName = "Post_empty_json_body_answers_400_deserialization_failure")]
    public async Task Post_malformed_body_answers_400_deserialization_failure(string contentType, byte[] body)
    {
        using HttpResponseMessage response = await PostAsync(Http, _collector.EventsEndpoint, body, contentType);
        SendEventResponse answer = await ReadAnswerAsync(response, contentType);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo(contentType));
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Is.EqualTo("deserialization failure"));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.AcceptedRequests, Is.Zero);
        }
    }

    [Test]
    public async Task Post_unreadable_chunked_body_answers_500_internal_error()
    {
        // A chunk size that is not hex: Kestrel fails the body read, which Raccoon answers 500.
        string raw =
            "POST /api/v1/events HTTP/1.1\r\n" +
            $"Host: {_collector.BaseAddress.Authority}\r\n" +
            "Content-Type: application/json\r\n" +
            "Transfer-Encoding: chunked\r\n" +
            "\r\n" +
            "zz\r\n{}\r\n0\r\n\r\n";

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_collector.BaseAddress.Host, _collector.BaseAddress.Port, Guard());
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw), Guard());
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string answer = await reader.ReadToEndAsync(Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer, Does.StartWith("HTTP/1.1 500 "));
            Assert.That(answer, Does.EndWith("""{"status":2,"code":3,"sent_time":1790000000,"reason":"deserialization failure"}"""));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Get_ping_answers_pong()
    {
        using HttpResponseMessage response = await Http.GetAsync(new Uri(_collector.BaseAddress, "/ping"), Guard());
        string body = await response.Content.ReadAsStringAsync(Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body, Is.EqualTo("pong"));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(_collector.Stats.Requests, Is.Zero, "pings are not event requests");
        }
    }

    [Test]
    public async Task WaitForEventsAsync_count_reached_by_later_requests_completes()
    {
        Task wait = _collector.WaitForEventsAsync(10, Guard());
        Assert.That(wait.IsCompleted, Is.False, "nothing was sent yet");

        using (await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("a", pageViews: 6)))
        {
        }

        using (await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("b", pageViews: 4)))
        {
        }

        await wait;
        Assert.That(_collector.Stats.RequestIds(), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public async Task WaitForEventsAsync_count_already_reached_completes_at_once()
    {
        using (await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("a", pageViews: 3)))
        {
        }

        Assert.That(_collector.WaitForEventsAsync(3, Guard()).IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void WaitForEventsAsync_canceled_wait_is_canceled()
    {
        using var cancel = new CancellationTokenSource();
        Task wait = _collector.WaitForEventsAsync(1, cancel.Token);

        cancel.Cancel();

        Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task DisposeAsync_pending_wait_fails_with_ObjectDisposedException()
    {
        Task wait = _collector.WaitForEventsAsync(1, Guard());

        await _collector.DisposeAsync();

        Assert.That(async () => await wait, Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public async Task Reset_zeroes_counters_and_forgets_received_events()
    {
        using (await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("a", pageViews: 3)))
        {
        }

        _collector.Stats.Reset();

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.Requests, Is.Zero);
            Assert.That(stats.AcceptedRequests, Is.Zero);
            Assert.That(stats.Events, Is.Zero);
            Assert.That(stats.EventsByType(), Is.Empty);
            Assert.That(stats.RequestIds(), Is.Empty);
            Assert.That(stats.ReceivedEvents(), Is.Empty);
            Assert.That(stats.ReceivedRequests(), Is.Empty);
        }
    }

    [Test]
    public async Task KeepEvents_off_counts_events_without_keeping_them()
    {
        await using RaccoonCollector collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false });

        using (await PostProtoAsync(Http, collector.EventsEndpoint, Batch("a", pageViews: 2, clicks: 1)))
        {
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(collector.Stats.Events, Is.EqualTo(3));
            Assert.That(collector.Stats.EventsByType(), Is.EquivalentTo(new Dictionary<string, long> { ["pageview"] = 2, ["click"] = 1 }));
            Assert.That(collector.Stats.ReceivedEvents(), Is.Empty);
            Assert.That(collector.Stats.RequestIds(), Is.Empty);
            Assert.That(collector.Stats.ReceivedRequests(), Is.Empty);
        }
    }

    [Test]
    public void StartAsync_invalid_options_throws_naming_each_problem()
    {
        var options = new CollectorOptions { Host = "example.org", Port = 70_000 };

        Assert.That(
            async () => await RaccoonCollector.StartAsync(options),
            Throws.ArgumentException.With.Message.Contains("Host").And.Message.Contains("Port"));
    }

    [Test]
    public void StartAsync_invalid_protocol_options_throw_naming_each_problem()
    {
        var options = new CollectorOptions
        {
            GrpcPort = -1,
            UserIdHeader = "X User",
            UserGroupHeader = string.Empty,
            MaxConnections = 0,
            PingInterval = TimeSpan.FromSeconds(-1),
            PongTimeout = TimeSpan.Zero,
            BearerToken = "two words",
        };

        Assert.That(
            async () => await RaccoonCollector.StartAsync(options),
            Throws.ArgumentException
                .With.Message.Contains("GrpcPort")
                .And.Message.Contains("UserIdHeader")
                .And.Message.Contains("UserGroupHeader")
                .And.Message.Contains("MaxConnections")
                .And.Message.Contains("PingInterval")
                .And.Message.Contains("PongTimeout")
                .And.Message.Contains("BearerToken"));
    }

    [Test]
    public void StartAsync_grpc_port_equal_to_port_throws()
    {
        Assert.That(
            async () => await RaccoonCollector.StartAsync(new CollectorOptions { Port = 18_080, GrpcPort = 18_080 }),
            Throws.ArgumentException.With.Message.Contains("GrpcPort must differ from Port"));
    }

    [Test]
    public void CollectorOptions_defaults_are_raccoons()
    {
        var options = new CollectorOptions();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.GrpcPort, Is.Null);
            Assert.That(options.UserIdHeader, Is.EqualTo("X-User-ID"));
            Assert.That(options.UserGroupHeader, Is.EqualTo("X-User-Group"));
            Assert.That(options.MaxConnections, Is.EqualTo(30_000));
            Assert.That(options.PingInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(options.PongTimeout, Is.EqualTo(TimeSpan.FromSeconds(60)));
            Assert.That(options.RequireIdentity, Is.False);
            Assert.That(options.BearerToken, Is.Null);
            Assert.That(options.ServerCertificate, Is.Null);
        }
    }
}
