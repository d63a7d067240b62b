namespace Clickstream.Pipeline.Tests.Cli;

public class HelpTests
{
    [Test]
    public async Task Help_lists_every_command_but_the_hidden_crash_child()
    {
        var result = await CliRunner.RunAsync(["--help"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain("demo").And.Contain("collector").And.Contain("load").And.Contain("inspect").And.Contain("crash-test"));
            Assert.That(result.Output, Does.Not.Contain("crash-child"));
        }
    }

    [TestCase("demo", new[] { "--events", "--qos0-share", "--batch-size", "--producers", "--flush-timeout", "--transport" })]
    [TestCase("collector", new[] { "--port", "--host", "--grpc-port", "--ndjson", "--fail-rate", "--fail-status", "--retry-after", "--soft-error-rate", "--reset-rate", "--truncate-rate", "--malformed-rate", "--seed", "--delay", "--down-every", "--down-for", "--require-identity", "--bearer-token" })]
    [TestCase("load", new[] { "--endpoint", "--events", "--rate", "--transport", "--qos", "--producers", "--batch-size" })]
    [TestCase("inspect", new[] { "<PATH>", "--json" })]
    [TestCase("crash-test", new[] { "--kills", "--seed", "--producers", "--batch-size", "--verbose" })]
    [TestCase("crash-child", new[] { "--endpoint", "--store", "--from", "--count", "--flush" })]
    public async Task Help_of_a_command_lists_its_options(string command, string[] options)
    {
        var result = await CliRunner.RunAsync([command, "--help"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain($"clickstream {command}"));
            foreach (var option in options)
            {
                Assert.That(result.Output, Does.Contain(option));
            }

            Assert.That(result.Errors, Is.Empty);
        }
    }

    [Test]
    public async Task Unknown_command_is_a_usage_error_pointing_at_the_general_help()
    {
        var result = await CliRunner.RunAsync(["deploy"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Errors, Does.Contain("Unknown command 'deploy'").And.Contain("Run 'clickstream --help'"));
            Assert.That(result.Output, Is.Empty);
        }
    }
}
