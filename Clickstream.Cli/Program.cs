// The clickstream command line: dotnet run --project Clickstream.Cli -- <command> [options]   (--help on each)
using Clickstream.Cli;

return await CliApp.RunProcessAsync((console, errors, cancellationToken) => CliApp.RunAsync(args, console, errors, cancellationToken));
