using Clickstream.Collector;

namespace Clickstream.Pipeline.Tests.Collector;

public class CommandLineTests
{
    [Test]
    public void Parse_no_arguments_uses_raccoon_port_on_loopback_without_keeping_events()
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse([]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.Port, Is.EqualTo(8080));
            Assert.That(result.Options.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(result.Options.KeepEvents, Is.False);
            Assert.That(result.Options.GrpcPort, Is.Null, "gRPC only when asked for");
            Assert.That(result.Options.RequireIdentity, Is.False);
            Assert.That(result.Options.BearerToken, Is.Null);
            Assert.That(result.Faults!.IsEmpty, Is.True, "no faults unless asked for");
        }
    }

    [TestCase("--grpc-port", "8081", "--require-identity", "--bearer-token", "t0ken")]
    [TestCase("--grpc-port=8081", "--bearer-token=t0ken", "--require-identity")]
    public void Parse_grpc_port_identity_and_token_give_options(params string[] args)
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.GrpcPort, Is.EqualTo(8081));
            Assert.That(result.Options.RequireIdentity, Is.True);
            Assert.That(result.Options.BearerToken, Is.EqualTo("t0ken"));
        }
    }

    [Test]
    public void Usage_names_every_option()
    {
        Assert.That(
            CollectorCommandLine.Usage,
            Does.Contain("--port N").And.Contain("--host ADDRESS").And.Contain("--grpc-port N")
                .And.Contain("--require-identity").And.Contain("--bearer-token T").And.Contain("--help")
                .And.Contain("--fail-rate R").And.Contain("--fail-status CODE").And.Contain("--retry-after S|DATE")
                .And.Contain("--soft-error-rate R").And.Contain("--reset-rate R").And.Contain("--truncate-rate R")
                .And.Contain("--malformed-rate R").And.Contain("--seed N").And.Contain("--delay DURATION")
                .And.Contain("--down-every DURATION").And.Contain("--down-for DURATION"));
    }

    [Test]
    public void Parse_fault_flags_give_random_faults_in_a_fixed_order_a_seed_a_delay_and_outages()
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse(
        [
            "--malformed-rate", "0.05", "--reset-rate=0.1", "--fail-rate", "0.2", "--fail-status", "503", "--retry-after", "5",
            "--soft-error-rate", "0.15", "--truncate-rate", "0.01", "--seed", "-7", "--delay", "50ms",
            "--down-every", "1m", "--down-for", "10s",
        ]);

        CollectorCommandLine.FaultFlags faults = result.Faults!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(faults.Rates, Is.EqualTo(new[]
            {
                new FaultRate(Fault.Status(503, RetryAfter.Seconds(5)), 0.2),
                new FaultRate(Fault.SoftError, 0.15),
                new FaultRate(Fault.ConnectionReset, 0.1),
                new FaultRate(Fault.TruncatedResponse, 0.01),
                new FaultRate(Fault.MalformedResponse, 0.05),
            }));
            Assert.That(faults.Seed, Is.EqualTo(-7));
            Assert.That(faults.Delay, Is.EqualTo(TimeSpan.FromMilliseconds(50)));
            Assert.That(faults.Outages, Is.EqualTo(new OutageSchedule(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10))));
            Assert.That(faults.IsEmpty, Is.False);
            Assert.That(faults.Describe(), Has.Some.Contains("status 503, Retry-After: 5"));
        }
    }

    [Test]
    public void Parse_fail_rate_alone_fails_with_500_and_retry_after_takes_an_http_date()
    {
        CollectorCommandLine.Result plain = CollectorCommandLine.Parse(["--fail-rate", "0.5"]);
        CollectorCommandLine.Result dated = CollectorCommandLine.Parse(["--fail-rate", "1", "--fail-status", "429", "--retry-after", "Wed, 21 Oct 2026 07:28:00 GMT"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plain.Faults!.Rates, Is.EqualTo(new[] { new FaultRate(Fault.Status(500), 0.5) }));
            Assert.That(
                dated.Faults!.Rates[0].Fault,
                Is.EqualTo(Fault.Status(429, RetryAfter.At(new DateTimeOffset(2026, 10, 21, 7, 28, 0, TimeSpan.Zero)))));
        }
    }

    [Test]
    public async Task FaultFlags_ApplyTo_sets_the_collector_faults()
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse(["--fail-rate", "1", "--fail-status", "503", "--delay", "2s", "--down-every", "60s", "--down-for", "10s"]);
        await using RaccoonCollector collector = await RaccoonCollector.StartAsync();

        result.Faults!.ApplyTo(collector.Faults);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(collector.Faults.Delay, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(collector.Faults.TakeFault(), Is.EqualTo(Fault.Status(503)));
            Assert.That(collector.Faults.IsDown, Is.False, "the first outage is a period away");
        }
    }

    [TestCase("--port", "9000", "--host", "0.0.0.0")]
    [TestCase("--port=9000", "--host=0.0.0.0")]
    public void Parse_port_and_host_gives_options(params string[] args)
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.Port, Is.EqualTo(9000));
            Assert.That(result.Options.Host, Is.EqualTo("0.0.0.0"));
        }
    }

    [TestCase("--help")]
    [TestCase("-h")]
    public void Parse_help_asks_for_help(string arg)
    {
        Assert.That(CollectorCommandLine.Parse([arg]).ShowHelp, Is.True);
    }

    [TestCase(new[] { "--port", "x" }, "--port", TestName = "Parse_port_not_a_number_is_an_error")]
    [TestCase(new[] { "--port", "70000" }, "--port", TestName = "Parse_port_too_large_is_an_error")]
    [TestCase(new[] { "--port", "-1" }, "--port", TestName = "Parse_negative_port_is_an_error")]
    [TestCase(new[] { "--port" }, "--port needs a value", TestName = "Parse_port_without_value_is_an_error")]
    [TestCase(new[] { "--host", "--port", "1" }, "--host needs a value", TestName = "Parse_host_without_value_is_an_error")]
    [TestCase(new[] { "--host", "example.org" }, "Host must be an IP address", TestName = "Parse_host_name_is_an_error")]
    [TestCase(new[] { "--verbose" }, "Unknown argument '--verbose'", TestName = "Parse_unknown_argument_is_an_error")]
    [TestCase(new[] { "--grpc-port", "x" }, "--grpc-port must be a number", TestName = "Parse_grpc_port_not_a_number_is_an_error")]
    [TestCase(new[] { "--grpc-port", "8080" }, "GrpcPort must differ from Port", TestName = "Parse_grpc_port_equal_to_port_is_an_error")]
    [TestCase(new[] { "--bearer-token" }, "--bearer-token needs a value", TestName = "Parse_bearer_token_without_value_is_an_error")]
    [TestCase(new[] { "--require-identity=yes" }, "--require-identity takes no value", TestName = "Parse_require_identity_with_a_value_is_an_error")]
    [TestCase(new[] { "--fail-rate", "1.5" }, "--fail-rate must be a share from 0 to 1", TestName = "Parse_rate_over_1_is_an_error")]
    [TestCase(new[] { "--reset-rate", "-0.1" }, "--reset-rate must be a share from 0 to 1", TestName = "Parse_negative_rate_is_an_error")]
    [TestCase(new[] { "--malformed-rate", "lots" }, "--malformed-rate must be a share", TestName = "Parse_rate_not_a_number_is_an_error")]
    [TestCase(new[] { "--fail-rate", "0.6", "--reset-rate", "0.5" }, "add up to 1.1", TestName = "Parse_rates_adding_up_to_more_than_1_is_an_error")]
    [TestCase(new[] { "--fail-rate", "0.1", "--fail-status", "200" }, "--fail-status must be an HTTP error status from 400 to 599", TestName = "Parse_fail_status_not_an_error_status_is_an_error")]
    [TestCase(new[] { "--fail-status", "503" }, "give --fail-rate too", TestName = "Parse_fail_status_without_fail_rate_is_an_error")]
    [TestCase(new[] { "--fail-rate", "0.1", "--retry-after", "soon" }, "--retry-after must be delta-seconds", TestName = "Parse_retry_after_neither_seconds_nor_date_is_an_error")]
    [TestCase(new[] { "--retry-after", "5" }, "give --fail-rate too", TestName = "Parse_retry_after_without_fail_rate_is_an_error")]
    [TestCase(new[] { "--seed", "x" }, "--seed must be a whole number", TestName = "Parse_seed_not_a_number_is_an_error")]
    [TestCase(new[] { "--delay", "50" }, "--delay must be a duration", TestName = "Parse_duration_without_unit_is_an_error")]
    [TestCase(new[] { "--delay", "2d" }, "--delay must be a duration", TestName = "Parse_duration_with_unknown_unit_is_an_error")]
    [TestCase(new[] { "--delay", "25h" }, "--delay must be a duration", TestName = "Parse_duration_over_a_day_is_an_error")]
    [TestCase(new[] { "--down-every", "60s" }, "give both, or neither", TestName = "Parse_down_every_without_down_for_is_an_error")]
    [TestCase(new[] { "--down-for", "10s" }, "give both, or neither", TestName = "Parse_down_for_without_down_every_is_an_error")]
    [TestCase(new[] { "--down-every", "10s", "--down-for", "10s" }, "shorter than --down-every", TestName = "Parse_down_for_not_shorter_than_down_every_is_an_error")]
    public void Parse_bad_arguments_is_an_error(string[] args, string expected)
    {
        CollectorCommandLine.Result result = CollectorCommandLine.Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Options, Is.Null);
            Assert.That(result.Error, Does.Contain(expected));
        }
    }
}
