using System.Net;
using System.Net.WebSockets;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Google.Protobuf;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>The collector's request size limit (<see cref="CollectorOptions.MaxRequestBytes"/>) on REST bodies and WebSocket messages.</summary>
public class CollectorLimitsTests : CollectorTestBase
{
    private const int Limit = 16 * 1024;

    protected override CollectorOptions CreateOptions() => new() { MaxRequestBytes = Limit };

    [Test]
    public async Task Rest_body_over_the_limit_is_answered_413_with_a_bad_request_body_naming_the_limit()
    {
        SendEventRequest request = Over(Limit);

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, request);
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Does.Contain(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)).And.Contain("--max-request-bytes"));
            Assert.That(_collector.Stats.Events, Is.Zero);
        }
    }

    [Test]
    public async Task Rest_chunked_body_over_the_limit_is_answered_413_once_the_limit_is_read()
    {
        // No Content-Length: the limit is found while reading, not from the header.
        byte[] body = RaccoonJsonBody(Over(Limit));
        using var content = new StreamContent(new UnseekableStream(body));
        content.Headers.TryAddWithoutValidation("Content-Type", Json);

        using HttpResponseMessage response = await Http.PostAsync(_collector.EventsEndpoint, content, Guard());
        SendEventResponse answer = await ReadAnswerAsync(response, Json);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(answer.Reason, Does.Contain("--max-request-bytes"));
        }
    }

    [Test]
    public async Task Rest_body_of_exactly_the_limit_is_accepted()
    {
        SendEventRequest request = Exactly(Limit);

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, request);
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Code, Is.EqualTo(Code.Ok));
        }
    }

    [Test]
    public async Task WebSocket_message_over_the_limit_closes_the_connection_1009_naming_the_limit()
    {
        using ClientWebSocket socket = await ConnectAsync(_collector.WebSocketEndpoint, "user-1");
        await SendAsync(socket, Exactly(Limit));
        (_, SendEventResponse accepted) = await ReceiveAnswerAsync(socket);

        await SendAsync(socket, Over(Limit));
        (WebSocketMessageType type, _) = await ReceiveMessageAsync(socket);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted.Code, Is.EqualTo(Code.Ok), "a message of exactly the limit is accepted");
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
            Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
            Assert.That(socket.CloseStatusDescription, Does.Contain(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(_collector.Stats.Events, Is.EqualTo(Exactly(Limit).Events.Count));
        }
    }

    [Test]
    public void MaxRequestBytes_defaults_to_4_MiB_and_must_be_positive()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(new CollectorOptions().MaxRequestBytes, Is.EqualTo(4 * 1024 * 1024));
            Assert.That(CollectorSettings.Validate(new CollectorOptions { MaxRequestBytes = 0 }, out _), Has.One.Contains("MaxRequestBytes"));
        }
    }

    [TestCase("--max-request-bytes", "1000")]
    [TestCase("--max-request-bytes=1000")]
    public void Parse_max_request_bytes_sets_the_limit(params string[] args)
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse(args);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.MaxRequestBytes, Is.EqualTo(1000));
            Assert.That(CollectorCommandLine.Usage, Does.Contain("--max-request-bytes N"));
        }
    }

    [TestCase("0")]
    [TestCase("-5")]
    [TestCase("lots")]
    public void Parse_bad_max_request_bytes_is_an_error_naming_the_flag(string value)
    {
        Assert.That(CollectorCommandLine.Parse(["--max-request-bytes", value]).Error, Does.Contain("--max-request-bytes"));
    }

    /// <summary>A batch whose protobuf encoding is exactly <paramref name="bytes"/> long.</summary>
    private static SendEventRequest Exactly(int bytes)
    {
        var request = Batch("req-limit", pageViews: 1);
        Event padding = new() { Type = "pad" };
        request.Events.Add(padding);
        int grow = bytes - request.CalculateSize();
        padding.EventBytes = ByteString.CopyFrom(new byte[Math.Max(0, grow)]);

        // The length prefix of the padding's bytes grows with them: trim what it added.
        while (request.CalculateSize() > bytes)
        {
            padding.EventBytes = ByteString.CopyFrom(new byte[padding.EventBytes.Length - (request.CalculateSize() - bytes)]);
        }

        Assert.That(request.CalculateSize(), Is.EqualTo(bytes), "test setup");
        return request;
    }

    private static SendEventRequest Over(int bytes) => Exactly(bytes + 1);

    private static byte[] RaccoonJsonBody(SendEventRequest request) => ToJson(request);

    /// <summary>A stream without a length, so that HttpClient sends the body chunked.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
