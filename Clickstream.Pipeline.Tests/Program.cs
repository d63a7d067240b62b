using Clickstream.Cli;
using Clickstream.Pipeline.Tests.Crash;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Clickstream.Pipeline.Tests;

/// <summary>
/// The test project run as a tool, for what is too long for the suite: the crash test's long runs
/// (<c>dotnet run --project Clickstream.Pipeline.Tests -- crash-test --kills 200</c>, or <c>--power-cuts 200</c>),
/// and the hidden <c>crash-child</c> that <see cref="CrashHarness"/> starts from this assembly. The child needs the
/// store's internal fault hooks, which only this assembly sees. <c>dotnet test</c> runs the tests through its own
/// host and never calls <see cref="Main"/>.
/// </summary>
internal static class Program
{
    /// <summary>How the help and the usage errors name the tool: run from the repository's root.</summary>
    public const string ToolName = "dotnet run --project Clickstream.Pipeline.Tests --";

    public static Task<int> Main(string[] args) =>
        CliApp.RunProcessAsync((console, errors, cancellationToken) => RunAsync(args, console, errors, cancellationToken));

    /// <summary>Runs <paramref name="args"/> as <see cref="CliApp"/> runs the <c>clickstream</c> commands; returns the exit code.</summary>
    public static Task<int> RunAsync(IEnumerable<string> args, IAnsiConsole console, IAnsiConsole errors, CancellationToken cancellationToken) =>
        CliApp.RunAsync(ToolName, AddCommands, args, console, errors, cancellationToken);

    private static void AddCommands(IConfigurator config)
    {
        config.AddCommand<CrashTestCommand>("crash-test")
            .WithDescription("Kill child processes tracking QoS1 events at random points (SIGKILL) and check that every acknowledged event arrives.");
        config.AddCommand<CrashChildCommand>(CrashChildCommand.CommandName)
            .WithDescription("(diagnostics) The child process of crash-test: tracks numbered QoS1 events and prints each acknowledged number.")
            .IsHidden();
    }
}
