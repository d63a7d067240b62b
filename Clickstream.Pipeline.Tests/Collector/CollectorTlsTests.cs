using System.Net;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Clickstream.Pipeline.Tests.Support;
using Grpc.Net.Client;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>HTTPS on both listeners with a self-signed certificate made here; the clients trust exactly that one.</summary>
[CancelAfter(30_000)]
public class CollectorTlsTests : CollectorTestBase
{
    private X509Certificate2 _certificate = null!;

    [OneTimeSetUp]
    public void CreateCertificate() => _certificate = TestCertificates.CreateSelfSigned();

    [OneTimeTearDown]
    public void DisposeCertificate() => _certificate.Dispose();

    protected override CollectorOptions CreateOptions() => new() { GrpcPort = 0, ServerCertificate = _certificate };

    [Test]
    public void Addresses_are_https_and_wss()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.BaseAddress.Scheme, Is.EqualTo("https"));
            Assert.That(_collector.EventsEndpoint.Scheme, Is.EqualTo("https"));
            Assert.That(_collector.WebSocketEndpoint.Scheme, Is.EqualTo("wss"));
            Assert.That(_collector.GrpcAddress!.Scheme, Is.EqualTo("https"));
        }
    }

    [Test]
    public async Task Rest_over_https_trusting_the_certificate_is_accepted()
    {
        using var client = new HttpClient(TestCertificates.HandlerTrusting(_certificate));

        using HttpResponseMessage response = await PostProtoAsync(client, _collector.EventsEndpoint, Batch("tls-rest", pageViews: 1));
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("tls-rest"));
        }
    }

    [Test]
    public void Rest_over_https_with_only_system_trust_is_refused_by_the_client()
    {
        using var client = new HttpClient();

        Assert.That(
            async () => await client.GetAsync(new Uri(_collector.BaseAddress, "/ping"), Guard()),
            Throws.InstanceOf<HttpRequestException>().With.InnerException.InstanceOf<AuthenticationException>());
    }

    [Test]
    public async Task WebSocket_over_wss_trusting_the_certificate_is_acked()
    {
        using ClientWebSocket socket = await ConnectAsync(
            _collector.WebSocketEndpoint, "user-1", configure: options => options.RemoteCertificateValidationCallback = TestCertificates.Trust(_certificate));

        await SendAsync(socket, Batch("tls-ws", pageViews: 1));
        (_, SendEventResponse answer) = await ReceiveAnswerAsync(socket);

        Assert.That(answer.Data["req_guid"], Is.EqualTo("tls-ws"));
    }

    [Test]
    public async Task Grpc_over_https_trusting_the_certificate_is_acked()
    {
        using GrpcChannel channel = Channel(_collector.GrpcAddress!, TestCertificates.HandlerTrusting(_certificate));
        var client = new EventService.EventServiceClient(channel);

        SendEventResponse answer = await client.SendEventAsync(Batch("tls-grpc", pageViews: 1), Identity("user-1"), cancellationToken: Guard());

        Assert.That(answer.Data["req_guid"], Is.EqualTo("tls-grpc"));
    }

    [Test]
    public async Task Certificate_without_its_private_key_is_an_invalid_option()
    {
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(_certificate.RawData);

        await Assert.ThatAsync(
            async () => await RaccoonCollector.StartAsync(new CollectorOptions { ServerCertificate = publicOnly }),
            Throws.ArgumentException.With.Message.Contains("ServerCertificate"));
    }
}
