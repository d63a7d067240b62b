using System.Net;
using Clickstream.Collector.Hosting;
using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Clickstream.Pipeline.Tests.Transports;

/// <summary>
/// A response is untrusted: the HTTP transport reads it up to a size limit, and only a well-formed ack of this
/// very request counts. A real Kestrel server on loopback answers the way a broken or hostile server would.
/// </summary>
public class UntrustedResponseTests
{
    private WebApplication _app = null!;
    private Uri _endpoint = null!;
    private Func<HttpContext, Task> _answer = null!;

    [SetUp]
    public async Task SetUp()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/api/v1/events", (RequestDelegate)(context => _answer(context)));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        _endpoint = new Uri(new Uri(address), "/api/v1/events");
    }

    [TearDown]
    public async Task TearDown()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<SendOutcome> SendAsync(Guid requestGuid)
    {
        var settings = PipelineSettings.Create(new ClickstreamOptions { Endpoint = _endpoint });
        using var transport = new HttpTransport(settings, json: false);
        return await transport.SendAsync(requestGuid, [Envelopes.Make(1)], CancellationToken.None).WaitAsync(Timeouts.Guard());
    }

    private static async Task AckAsync(HttpContext context, string reqGuid, string contentType, int padding = 0)
    {
        var response = new SendEventResponse { Status = Status.Success, Code = Code.Ok, Reason = new string('x', padding) };
        response.Data["req_guid"] = reqGuid;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(response.ToByteArray());
    }

    [Test]
    public async Task Ack_of_this_request_is_acknowledged()
    {
        var requestGuid = Guid.NewGuid();
        _answer = context => AckAsync(context, requestGuid.ToString(), "application/proto");
        Assert.That((await SendAsync(requestGuid)).IsAcknowledged, Is.True);
    }

    [Test]
    public async Task Response_body_over_the_limit_is_not_read_on_and_is_a_failure()
    {
        var requestGuid = Guid.NewGuid();
        _answer = context => AckAsync(context, requestGuid.ToString(), "application/proto", padding: 200_000);
        var outcome = await SendAsync(requestGuid);
        Assert.That(outcome.Result, Is.EqualTo(SendResult.InvalidResponse));
        Assert.That(outcome.Detail, Does.Contain("over"));
    }

    [Test]
    public async Task Ack_in_an_unexpected_content_type_is_a_failure()
    {
        var requestGuid = Guid.NewGuid();
        _answer = context => AckAsync(context, requestGuid.ToString(), "text/html");
        var outcome = await SendAsync(requestGuid);
        Assert.That(outcome.Result, Is.EqualTo(SendResult.InvalidResponse));
        Assert.That(outcome.Detail, Does.Contain("content type"));
    }

    [Test]
    public async Task Malformed_body_is_a_failure()
    {
        _answer = async context =>
        {
            context.Response.ContentType = "application/proto";
            await context.Response.Body.WriteAsync(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01 });
        };
        Assert.That((await SendAsync(Guid.NewGuid())).Result, Is.EqualTo(SendResult.InvalidResponse));
    }

    [Test]
    public async Task Ack_naming_another_request_is_a_failure()
    {
        _answer = context => AckAsync(context, Guid.NewGuid().ToString(), "application/proto");
        Assert.That((await SendAsync(Guid.NewGuid())).Result, Is.EqualTo(SendResult.InvalidResponse));
    }
}
