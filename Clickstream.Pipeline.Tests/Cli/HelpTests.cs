using Clickstream.Cli;

namespace Clickstream.Pipeline.Tests.Cli;

public class HelpTests
{
    [Test]
    public async Task Help_lists_every_command()
    {
        var result = await CliRunner.RunAsync(["--help"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain("demo").And.Contain("collector").And.Contain("load").And.Contain("inspect"));
            Assert.That(result.Output, Does.Not.Contain("crash-test"), "the crash test runs from the test project");
        }
    }

    [Test]
    public async Task Test_tool_help_lists_crash_test_but_not_the_hidden_crash_child()
    {
        var result = await CliRunner.RunTestToolAsync(["--help"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain("crash-test"));
            Assert.That(result.Output, Does.Not.Contain("crash-child"));
        }
    }

    [TestCase("demo", new[] { "--events", "--qos0-share", "--batch-size", "--producers", "--flush-timeout", "--transport" })]
    [TestCase("collector", new[] { "--port", "--host", "--grpc-port", "--ndjson", "--fail-rate", "--fail-status", "--retry-after", "--soft-error-rate", "--reset-rate", "--truncate-rate", "--malformed-rate", "--seed", "--delay", "--down-every", "--down-for", "--require-identity", "--bearer-token" })]
    [TestCase("load", new[] { "--endpoint", "--events", "--rate", "--transport", "--qos", "--producers", "--batch-size" })]
    [TestCase("inspect", new[] { "<PATH>", "--json" })]
    public async Task Help_of_a_command_lists_its_options(string command, string[] options)
    {
        var result = await CliRunner.RunAsync([command, "--help"]);

        AssertHelpLists(result, $"{CliApp.ToolName} {command}", options);
    }

    [TestCase("crash-test", new[] { "--kills", "--seed", "--producers", "--batch-size", "--verbose" })]
    [TestCase("crash-child", new[] { "--endpoint", "--store", "--from", "--count", "--flush" })]
    public async Task Help_of_a_test_tool_command_lists_its_options(string command, string[] options)
    {
        var result = await CliRunner.RunTestToolAsync([command, "--help"]);

        AssertHelpLists(result, $"{Program.ToolName} {command}", options);
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

    private static void AssertHelpLists(CliResult result, string usage, string[] options)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain(usage));
            foreach (var option in options)
            {
                Assert.That(result.Output, Does.Contain(option));
            }

            Assert.That(result.Errors, Is.Empty);
        }
    }
}
