using System.Runtime.InteropServices;
using Clickstream.Cli.Collector;
using Clickstream.Cli.CommandLine;
using Clickstream.Cli.Demo;
using Clickstream.Cli.Inspect;
using Clickstream.Cli.Load;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Clickstream.Cli;

/// <summary>
/// The <c>clickstream</c> command line on Spectre.Console.Cli: the commands, <c>--help</c> on each, typed settings
/// validated before a command runs, and every error turned into one message on standard error and an
/// <see cref="ExitCodes">exit code</see>.
/// </summary>
internal static class CliApp
{
    public const string ToolName = "clickstream";

    /// <summary>Runs <paramref name="args"/> and returns the exit code.</summary>
    /// <param name="args">The arguments, command first.</param>
    /// <param name="console">Where commands write their output and help goes.</param>
    /// <param name="errors">Where errors go (standard error), so that a script's captured output stays clean.</param>
    /// <param name="cancellationToken">Ctrl+C or SIGTERM: commands stop cleanly.</param>
    /// <param name="hooks">What a test observes; none by default.</param>
    public static Task<int> RunAsync(IEnumerable<string> args, IAnsiConsole console, IAnsiConsole errors, CancellationToken cancellationToken, CommandHooks? hooks = null) =>
        RunAsync(ToolName, AddCommands, args, console, errors, cancellationToken, hooks);

    /// <summary>
    /// Runs <paramref name="args"/> against the commands <paramref name="addCommands"/> adds, with this command line's
    /// parsing, validation and error handling. The test project's crash tool (<c>crash-test</c>) runs on it too.
    /// </summary>
    /// <param name="applicationName">The name the help and the usage errors show.</param>
    /// <param name="addCommands">Adds the commands.</param>
    /// <param name="args">The arguments, command first.</param>
    /// <param name="console">Where commands write their output and help goes.</param>
    /// <param name="errors">Where errors go (standard error), so that a script's captured output stays clean.</param>
    /// <param name="cancellationToken">Ctrl+C or SIGTERM: commands stop cleanly.</param>
    /// <param name="hooks">What a test observes; none by default.</param>
    public static Task<int> RunAsync(
        string applicationName,
        Action<IConfigurator> addCommands,
        IEnumerable<string> args,
        IAnsiConsole console,
        IAnsiConsole errors,
        CancellationToken cancellationToken,
        CommandHooks? hooks = null)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName(applicationName);
            config.ConfigureConsole(console);
            config.UseStrictParsing();
            config.CancellationExitCode(ExitCodes.Cancelled);
            config.Settings.Registrar.RegisterInstance<IAnsiConsole>(console);
            config.Settings.Registrar.RegisterInstance(hooks ?? new CommandHooks());
            config.SetExceptionHandler((exception, _) => HandleError(applicationName, exception, args, errors));
            addCommands(config);
        });

        return app.RunAsync(args, cancellationToken);
    }

    /// <summary>
    /// A process's whole run: <paramref name="run"/> gets the standard output and standard error consoles and a token
    /// that the first Ctrl+C or SIGTERM cancels; returns its exit code.
    /// </summary>
    public static async Task<int> RunProcessAsync(Func<IAnsiConsole, IAnsiConsole, CancellationToken, Task<int>> run)
    {
        using var cancellation = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            // The first Ctrl+C or SIGTERM stops the command cleanly (flush cut short, temp files removed, the collector
            // stopped); a second one ends the process at once.
            context.Cancel = !cancellation.IsCancellationRequested;
            cancellation.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await run(AnsiConsole.Console, errors, cancellation.Token);
    }

    private static void AddCommands(IConfigurator config)
    {
        config.AddCommand<DemoCommand>("demo")
            .WithDescription("Track QoS0 and QoS1 sample events through a pipeline to an embedded collector and report the counters.")
            .WithExample("demo", "--events", "10000", "--transport", "grpc");
        config.AddCommand<CollectorCommand>("collector")
            .WithDescription("Run the Raccoon-compatible collector until Ctrl+C, with a live summary and optional NDJSON of every event.")
            .WithExample("collector", "--port", "8080", "--ndjson", "events.ndjson")
            .WithExample("collector", "--port", "8080", "--fail-rate", "0.1", "--fail-status", "503");
        config.AddCommand<LoadCommand>("load")
            .WithDescription("Drive a running collector with the pipeline at a fixed rate; report throughput, latency percentiles and failures.")
            .WithExample("load", "--endpoint", "http://127.0.0.1:8080/api/v1/events", "--events", "100000", "--rate", "20000");
        config.AddCommand<InspectCommand>("inspect")
            .WithDescription("Show what a pipeline's LiteDB store file holds (read from a copy: the file is never modified).")
            .WithExample("inspect", "clickstream/events.db", "--json");
    }

    private static int HandleError(string applicationName, Exception exception, IEnumerable<string> args, IAnsiConsole errors)
    {
        switch (exception)
        {
            case CliException cli:
                errors.MarkupLineInterpolated($"[red]error:[/] {cli.Message}");
                return cli.ExitCode;
            case CommandAppException usage:
                // Unknown command or option, a value that does not convert, a failed validation: Spectre's own
                // message names the option; the hint points at the right help.
                if (usage.Pretty is { } pretty)
                {
                    errors.Write(pretty);
                }
                else
                {
                    errors.MarkupLineInterpolated($"[red]error:[/] {usage.Message}");
                }

                if (UsageHints.OptionOfBadValue(usage, args) is { } option)
                {
                    errors.MarkupLineInterpolated($"[red]error:[/] {option} has a value that is not valid for it.");
                }

                var command = UsageHints.CommandOf(usage, args);
                errors.WriteLine($"Run '{applicationName} {(command is null ? "" : command + " ")}--help' for usage.");
                return ExitCodes.Usage;
            default:
                // A failure the command did not expect: one readable report instead of an unhandled-exception abort.
                errors.MarkupLine("[red]error:[/] the command failed:");
                errors.WriteException(exception, ExceptionFormats.ShortenPaths);
                return ExitCodes.Failure;
        }
    }
}
