namespace Clickstream.Pipeline.Tests.Cli;

public class DemoCommandTests
{
    [TestCase("http")]
    [TestCase("websocket")]
    public async Task Demo_delivers_every_QoS1_event_and_prints_the_counters(string transport)
    {
        var result = await CliRunner.RunAsync(["demo", "--events", "1_000", "--batch-size", "50", "--producers", "4", "--transport", transport]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Output + result.Errors);
            Assert.That(result.Output, Does.Contain("OK: all 500 QoS1 events were acknowledged and received by the collector."));
            Assert.That(result.Output, Does.Match(@"Events acknowledged\s*│\s*500 │\s*500 │"), "the final table, printed plainly on a non-interactive console");
            Assert.That(result.Output, Does.Match(@"all\s*│\s*500 │\s*500 │\s*1,000"));
        }
    }

    [Test]
    public async Task Demo_on_a_terminal_draws_the_live_progress_bar_and_counter_table()
    {
        var result = await CliRunner.RunAsync(["demo", "--events", "400", "--batch-size", "50", "--producers", "2"], interactive: true);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Output + result.Errors);
            Assert.That(result.Output, Does.Contain("QoS1 phase  ").And.Contain("200 / 200 acknowledged"), "the bar, full at the end");
            Assert.That(result.Output, Does.Contain("pending on disk").And.Contain("batches ok / failed / retried"), "the live table's columns");
        }
    }

    [TestCase(new[] { "--events", "0" }, "--events must be from 1", TestName = "Demo_events_zero_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--events", "lots" }, "--events has a value that is not valid", TestName = "Demo_events_not_a_number_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--qos0-share", "1.5" }, "--qos0-share must be a number from 0 to 1", TestName = "Demo_share_over_1_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--transport", "pigeon" }, "--transport must be one of http|http-json|grpc|websocket; was 'pigeon'", TestName = "Demo_unknown_transport_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--batch-size=0" }, "--batch-size must be from 1", TestName = "Demo_batch_size_zero_with_equals_is_a_usage_error_naming_the_option")]
    [TestCase(new[] { "--speed", "9" }, "Unknown option 'speed'", TestName = "Demo_unknown_option_is_a_usage_error_naming_it")]
    public async Task Demo_bad_arguments_are_usage_errors(string[] args, string expected)
    {
        var result = await CliRunner.RunAsync(["demo", .. args]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Errors, Does.Contain(expected).And.Contain("Run 'clickstream demo --help' for usage."));
            Assert.That(result.Output, Is.Empty, "nothing was run");
        }
    }
}
