// The clickstream command line: dotnet run --project Clickstream.Cli -- <command> [options]
using Clickstream.Cli;
using Clickstream.Cli.Crash;
using Clickstream.Cli.Demo;
using Spectre.Console;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops the command cleanly (flush cut short, temp files removed); a second one kills.
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};

var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
var app = new CliApp(AnsiConsole.Console, errors, [new DemoCommand(), new CrashTestCommand(), new CrashChildCommand()]);
return await app.RunAsync(args, cancellation.Token);
