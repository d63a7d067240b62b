using Clickstream.Cli;
using Clickstream.Pipeline.Tests.Support;
using Spectre.Console;
using Spectre.Console.Testing;

namespace Clickstream.Pipeline.Tests.Cli;

/// <summary>What a command printed and returned.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Output">Standard output.</param>
/// <param name="Errors">Standard error.</param>
internal sealed record CliResult(int ExitCode, string Output, string Errors);

/// <summary>
/// Runs the <c>clickstream</c> command line in-proc, as <c>Program</c> does, with Spectre's <see cref="TestConsole"/>
/// for standard output and standard error: not interactive (as under CI or a redirect), wide enough not to wrap.
/// </summary>
internal static class CliRunner
{
    public static Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken = default, CommandHooks? hooks = null, bool interactive = false) =>
        RunAsync((output, errors, guard) => CliApp.RunAsync(args, output, errors, guard, hooks), cancellationToken, interactive);

    /// <summary>Runs this project's own command line (<see cref="Program"/>: <c>crash-test</c>, <c>crash-child</c>) in-proc.</summary>
    public static Task<CliResult> RunTestToolAsync(string[] args) =>
        RunAsync((output, errors, guard) => Program.RunAsync(args, output, errors, guard), cancellationToken: default, interactive: false);

    private static async Task<CliResult> RunAsync(Func<IAnsiConsole, IAnsiConsole, CancellationToken, Task<int>> run, CancellationToken cancellationToken, bool interactive)
    {
        using var output = new TestConsole().Width(250);
        if (interactive)
        {
            // As a terminal: the live displays draw.
            output.Interactive();
        }

        using var errors = new TestConsole().Width(250);
        var guard = cancellationToken.CanBeCanceled ? cancellationToken : Timeouts.Guard(120);
        var exitCode = await run(output, errors, guard);
        return new CliResult(exitCode, output.Output, errors.Output);
    }
}
