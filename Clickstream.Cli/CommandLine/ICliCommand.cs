using Spectre.Console;

namespace Clickstream.Cli.CommandLine;

/// <summary>One command of the command line (<c>demo</c>, later <c>collector</c>, <c>load</c>, <c>inspect</c>).</summary>
internal interface ICliCommand
{
    /// <summary>The word that selects the command.</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>The options the command accepts; anything else is a usage error.</summary>
    IReadOnlyList<CliOption> Options { get; }

    /// <summary>Runs the command and returns its exit code (see <see cref="ExitCodes"/>).</summary>
    /// <exception cref="UsageException">An option value is invalid.</exception>
    Task<int> RunAsync(ParsedArguments arguments, IAnsiConsole console, CancellationToken cancellationToken);
}
