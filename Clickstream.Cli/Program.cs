// The clickstream command line: dotnet run --project Clickstream.Cli -- <command> [options]   (--help on each)
using System.Runtime.InteropServices;
using Clickstream.Cli;
using Spectre.Console;

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
return await CliApp.RunAsync(args, AnsiConsole.Console, errors, cancellation.Token);
