using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Cli;

public class LoadCommandTests
{
    [TestCase("http", "1")]
    [TestCase("websocket", "0")]
    [TestCase("grpc", "1")]
    public async Task Load_delivers_every_event_to_the_collector_and_reports_throughput_and_latency(string transport, string qos)
    {
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false, GrpcPort = 0 });
        var endpoint = transport switch
        {
            "grpc" => collector.GrpcAddress!,
            "websocket" => collector.WebSocketEndpoint,
            _ => collector.EventsEndpoint,
        };

        var result = await CliRunner.RunAsync(
            ["load", "--endpoint", endpoint.ToString(), "--events", "3000", "--rate", "1000000", "--transport", transport, "--qos", qos, "--batch-size", "100"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Output + result.Errors);
            Assert.That(collector.Stats.Events, Is.GreaterThanOrEqualTo(3000));
            Assert.That(result.Output, Does.Contain("OK: all 3,000 events were acknowledged."));
            Assert.That(result.Output, Does.Match(@"events acknowledged\s*│\s*3,000 │"));
            Assert.That(result.Output, Does.Match(@"latency p50 / p90 / p99 / max\s*│\s*[\d.]+ ms / [\d.]+ ms / [\d.]+ ms / [\d.]+ ms │"));
            Assert.That(result.Output, Does.Match(@"throughput, acknowledged\s*│\s*[\d,]+/s"));
        }
    }

    [Test]
    public async Task Load_reports_the_failed_and_retried_batches()
    {
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false });
        collector.Faults.FailNext(1, 503);

        var result = await CliRunner.RunAsync(["load", "--endpoint", collector.EventsEndpoint.ToString(), "--events", "200", "--rate", "1000000", "--batch-size", "100", "--producers", "1"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Output + result.Errors);
            Assert.That(result.Output, Does.Match(@"batches failed / retried\s*│\s*1 / 1 │"));
            Assert.That(result.Output, Does.Contain("OK: all 200 events were acknowledged."));
        }
    }

    [Test]
    public async Task Load_against_a_flapping_collector_reports_the_time_from_each_up_edge_to_the_first_ack()
    {
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false });
        var load = CliRunner.RunAsync(["load", "--endpoint", collector.EventsEndpoint.ToString(), "--events", "4000", "--rate", "1000", "--batch-size", "100"]);

        // Flapping once the load delivers: its first TCP probe must find the collector up.
        await collector.WaitForEventsAsync(1, Timeouts.Guard());
        collector.Faults.ScheduleOutages(new OutageSchedule(period: TimeSpan.FromMilliseconds(1000), duration: TimeSpan.FromMilliseconds(300)));
        var result = await load;
        collector.Faults.ScheduleOutages(null);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Output + result.Errors);
            Assert.That(result.Output, Does.Match(@"collector outages seen\s*│\s*[1-9]\d* down, [1-9]\d* up again"));
            Assert.That(result.Output, Does.Match(@"up-edge to first ack p50 / max\s*│\s*[\d.]+ ms / [\d.]+ ms \([1-9]\d* up-edges\)"));
        }
    }

    [Test]
    public async Task Load_to_a_closed_port_exits_3_naming_the_endpoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var endpoint = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/api/v1/events";

        var result = await CliRunner.RunAsync(["load", "--endpoint", endpoint, "--events", "10"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(3));
            Assert.That(result.Errors, Does.Contain($"--endpoint {endpoint} is unreachable"));
        }
    }

    [TestCase(new[] { "--endpoint", "http://127.0.0.1:1/", "--qos", "2" }, "--qos must be from 0 to 1", TestName = "Load_qos_2_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--endpoint", "ftp://127.0.0.1/" }, "--endpoint must be an absolute http(s) or ws(s) URL", TestName = "Load_ftp_endpoint_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--endpoint", "http://127.0.0.1:1/", "--rate", "0" }, "--rate must be from 1", TestName = "Load_rate_zero_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--endpoint", "http://127.0.0.1:1/", "--transport", "smtp" }, "--transport must be one of", TestName = "Load_unknown_transport_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--events", "10" }, "endpoint", TestName = "Load_without_endpoint_is_a_usage_error_naming_the_option")]
    public async Task Load_bad_arguments_are_usage_errors(string[] args, string expected)
    {
        var result = await CliRunner.RunAsync(["load", .. args]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Errors, Does.Contain(expected));
            Assert.That(result.Output, Is.Empty);
        }
    }
}
