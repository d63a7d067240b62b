using Clickstream.Cli.CommandLine;
using Spectre.Console;

namespace Clickstream.Cli;

/// <summary>Dispatches <c>clickstream &lt;command&gt; [options]</c> to its command and turns usage errors into exit code 2.</summary>
internal sealed class CliApp
{
    private const string ToolName = "clickstream";

    private readonly IAnsiConsole _console;
    private readonly IAnsiConsole _errors;
    private readonly IReadOnlyList<ICliCommand> _commands;

    /// <param name="console">Where commands write their output and help goes.</param>
    /// <param name="errors">Where usage errors go (standard error), so that a script's captured output stays clean.</param>
    /// <param name="commands">The commands, in the order the help lists them.</param>
    public CliApp(IAnsiConsole console, IAnsiConsole errors, IReadOnlyList<ICliCommand> commands)
    {
        _console = console;
        _errors = errors;
        _commands = commands;
    }

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length == 0)
        {
            WriteUsage();
            return ExitCodes.Usage;
        }

        if (args[0] is "--help" or "-h" or "help")
        {
            WriteUsage();
            return ExitCodes.Success;
        }

        var command = Find(args[0]);
        if (command is null)
        {
            return UsageError($"unknown command '{args[0]}'. Commands: {string.Join(", ", CommandNames())}.", helpTopic: null);
        }

        try
        {
            var arguments = ParsedArguments.Parse(args.AsSpan(1), command.Options);
            if (arguments.HelpRequested)
            {
                WriteCommandUsage(command);
                return ExitCodes.Success;
            }

            return await command.RunAsync(arguments, _console, cancellationToken);
        }
        catch (UsageException ex)
        {
            return UsageError(ex.Message, command.Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A failure the command did not expect: one readable report instead of an unhandled-exception abort.
            _errors.MarkupLineInterpolated($"[red]error:[/] {command.Name} failed:");
            _errors.WriteException(ex, ExceptionFormats.ShortenPaths);
            return ExitCodes.Failure;
        }
    }

    private ICliCommand? Find(string name)
    {
        foreach (var command in _commands)
        {
            if (string.Equals(command.Name, name, StringComparison.Ordinal))
            {
                return command;
            }
        }

        return null;
    }

    private IEnumerable<string> CommandNames()
    {
        foreach (var command in _commands)
        {
            yield return command.Name;
        }
    }

    private int UsageError(string message, string? helpTopic)
    {
        _errors.MarkupLineInterpolated($"[red]error:[/] {message}");
        _errors.WriteLine($"Run '{ToolName} {(helpTopic is null ? "" : helpTopic + " ")}--help' for usage.");
        return ExitCodes.Usage;
    }

    private void WriteUsage()
    {
        _console.WriteLine($"Usage: {ToolName} <command> [options]");
        _console.WriteLine();
        var grid = new Grid().AddColumn(new GridColumn().PadRight(4)).AddColumn();
        foreach (var command in _commands)
        {
            grid.AddRow(new Text(command.Name), new Text(command.Summary));
        }

        _console.WriteLine("Commands:");
        _console.Write(new Padder(grid).Padding(2, 0, 0, 0));
        _console.WriteLine();
        _console.WriteLine($"Run '{ToolName} <command> --help' for a command's options.");
    }

    private void WriteCommandUsage(ICliCommand command)
    {
        _console.WriteLine($"Usage: {ToolName} {command.Name} [options]");
        _console.WriteLine();
        _console.WriteLine(command.Summary);
        _console.WriteLine();
        var grid = new Grid().AddColumn(new GridColumn().PadRight(4)).AddColumn();
        foreach (var option in command.Options)
        {
            grid.AddRow(new Text(option.Usage), new Text(option.Description));
        }

        grid.AddRow(new Text("-h, --help"), new Text("Show this help."));
        _console.WriteLine("Options:");
        _console.Write(new Padder(grid).Padding(2, 0, 0, 0));
    }
}
