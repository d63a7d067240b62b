using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>
/// An endpoint with credentials in its user info (<c>user:pass@</c>) reaches no log, span, health event or exception
/// message with them: the user info is shown as <c>REDACTED:REDACTED</c>.
/// </summary>
public class EndpointRedactionTests : PipelineTestBase
{
    private const string User = "alice";
    private const string Password = "s3cretPa55";

    [TestCase(ClickstreamTransport.Http)]
    [TestCase(ClickstreamTransport.WebSocket)]
    public async Task Endpoint_credentials_reach_no_log_span_or_health_event(ClickstreamTransport transport)
    {
        Harness.Transport = transport;
        var endpoint = new UriBuilder(Harness.Endpoint(transport)) { UserName = User, Password = Password }.Uri;
        var logs = new RecordingLoggerFactory();
        var health = new HealthRecorder();
        using var spans = new SpanRecorder(endpoint.Port);
        var pipeline = Harness.Create(
            o =>
            {
                o.Endpoint = endpoint;
                o.LoggerFactory = logs;
                o.HealthObserver = health;
                o.MaxBatchSize = 5;
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.RetryMaxDelay = TimeSpan.FromSeconds(8);
            },
            hooks: new() { Random = FixedRandom.Ceiling });

        await pipeline.TrackAsync(SampleEvents.PageView(0));
        await pipeline.FlushAsync(Harness.Guard);

        // Failures log their details, the WebSocket its connection's ends; the health events carry them too.
        await Harness.MakeUnreachableAsync(pipeline, TimeSpan.FromSeconds(8));
        await pipeline.HealthDelivered.WaitAsync(Harness.Guard);

        var logged = logs.Entries.SelectMany(e => new[] { e.Message }.Concat(e.State?.Select(v => Convert.ToString(v.Value, System.Globalization.CultureInfo.InvariantCulture)) ?? [])).OfType<string>().ToList();
        var tagged = spans.Stopped.SelectMany(s => s.TagObjects.Select(t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture)).Append(s.StatusDescription)).OfType<string>().ToList();
        var reported = health.Events.SelectMany(e => new[] { e.Reason, e.Detail }).OfType<string>().ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(logs.Entries.Single(e => e.EventId == 1).Message, Does.Contain("REDACTED:REDACTED@"));
            Assert.That(logged, Has.None.Contains(Password).And.None.Contains(User + ":"), "logs");
            Assert.That(spans.Stopped, Is.Not.Empty);
            Assert.That(tagged, Has.None.Contains(Password), "spans");
            Assert.That(reported, Has.None.Contains(Password), "health events");
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(1), "the endpoint works with user info");
        }
    }

    [Test]
    public void Invalid_endpoint_with_credentials_is_named_without_them()
    {
        var options = Harness.Options(o => o.Endpoint = new Uri($"ftp://{User}:{Password}@collector.invalid/api/v1/events"));

        var thrown = Assert.Throws<ArgumentException>(() => ClickstreamPipeline.Create(options));

        Assert.That(thrown!.Message, Does.Contain("REDACTED:REDACTED@collector.invalid").And.Not.Contain(Password));
    }
}
