using System.Globalization;
using System.Net;
using System.Text.Json;
using Clickstream.Cli;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Cli;

public class CollectorCommandTests : TempFolderTestBase
{
    [Test]
    public async Task Collector_writes_every_event_it_accepts_as_ndjson_and_stops_on_cancellation()
    {
        var ndjson = Path.Combine(Folder.Path, "events.ndjson");
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<RaccoonCollector>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = CliRunner.RunAsync(["collector", "--port", "0", "--ndjson", ndjson], stop.Token, new CommandHooks { CollectorStarted = started.SetResult });
        var collector = await started.Task.WaitAsync(Timeouts.Guard());

        var options = new ClickstreamOptions { Endpoint = collector.EventsEndpoint, StoragePath = Folder.StorePath, MaxBatchSize = 10 };
        await using (var pipeline = ClickstreamPipeline.Create(options))
        {
            for (var i = 0; i < 25; i++)
            {
                await pipeline.TrackAsync(SampleEvents.PageView(i), Timeouts.Guard());
            }

            await pipeline.FlushAsync(Timeouts.Guard());
        }

        await collector.WaitForEventsAsync(25, Timeouts.Guard());
        await stop.CancelAsync();
        var result = await run.WaitAsync(Timeouts.Guard());

        var lines = await File.ReadAllLinesAsync(ndjson);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Errors);
            Assert.That(result.Output, Does.Contain("Raccoon collector listening").And.Contain(collector.EventsEndpoint.ToString()));
            Assert.That(result.Output, Does.Contain("NDJSON: 25 events written").And.Contain("25 events."));
            Assert.That(lines, Has.Length.EqualTo(25));
        }

        var pages = new List<string>();
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.That(root.GetProperty("type").GetString(), Is.EqualTo("pageview"));
            Assert.That(Guid.TryParse(root.GetProperty("req_guid").GetString(), out _), Is.True);
            Assert.That(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), CultureInfo.InvariantCulture, out _), Is.True);
            pages.Add(PageView.Parser.ParseFrom(root.GetProperty("event_bytes").GetBytesFromBase64()).PageUrl);
        }

        Assert.That(pages, Is.EquivalentTo(Enumerable.Range(0, 25).Select(i => SampleEvents.PageView(i).PageUrl)), "every event, byte for byte");
    }

    [Test]
    public async Task Collector_fault_flags_are_applied_to_the_collector()
    {
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<RaccoonCollector>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = CliRunner.RunAsync(
            ["collector", "--port", "0", "--grpc-port", "0", "--fail-rate", "1", "--fail-status", "503", "--retry-after", "7"],
            stop.Token,
            new CommandHooks { CollectorStarted = started.SetResult });
        var collector = await started.Task.WaitAsync(Timeouts.Guard());

        using var http = new HttpClient();
        using var response = await http.PostAsync(collector.EventsEndpoint, new ByteArrayContent([]) { Headers = { { "Content-Type", "application/proto" } } }, Timeouts.Guard());
        await stop.CancelAsync();
        var result = await run.WaitAsync(Timeouts.Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(collector.GrpcAddress, Is.Not.Null);
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain("of requests: status 503, Retry-After: 7"));
        }
    }

    [TestCase(new[] { "--fail-rate", "2" }, "--fail-rate must be a share from 0 to 1", TestName = "Collector_rate_over_1_is_a_usage_error_naming_the_flag")]
    [TestCase(new[] { "--port", "http" }, "--port must be a number from 0 to 65535", TestName = "Collector_port_not_a_number_is_a_usage_error_naming_the_flag")]
    [TestCase(new[] { "--down-every", "10s" }, "give both, or neither", TestName = "Collector_down_every_alone_is_a_usage_error")]
    [TestCase(new[] { "--delay", "5" }, "--delay must be a duration", TestName = "Collector_delay_without_unit_is_a_usage_error_naming_the_flag")]
    [TestCase(new[] { "--fail-status", "503" }, "give --fail-rate too", TestName = "Collector_fail_status_alone_is_a_usage_error")]
    public async Task Collector_bad_flags_are_usage_errors(string[] args, string expected)
    {
        var result = await CliRunner.RunAsync(["collector", .. args]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Errors, Does.Contain(expected).And.Contain("Run 'clickstream collector --help'"));
            Assert.That(result.Output, Is.Empty);
        }
    }

    [Test]
    public async Task Collector_on_a_port_in_use_exits_3_naming_the_port()
    {
        await using var other = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false });
        var port = other.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);

        var result = await CliRunner.RunAsync(["collector", "--port", port]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(3));
            Assert.That(result.Errors, Does.Contain($"cannot listen on 127.0.0.1 port {port}"));
        }
    }

    [Test]
    public async Task Collector_ndjson_in_a_missing_folder_exits_4()
    {
        var result = await CliRunner.RunAsync(["collector", "--port", "0", "--ndjson", Path.Combine(Folder.Path, "no", "such", "folder", "e.ndjson")]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(4));
            Assert.That(result.Errors, Does.Contain("--ndjson: cannot create"));
        }
    }
}
