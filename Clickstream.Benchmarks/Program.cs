// dotnet run -c Release --project Clickstream.Benchmarks -- report            the whole suite; rewrites BENCHMARKS.md and docs/benchmarks/e2e.png
// dotnet run -c Release --project Clickstream.Benchmarks -- report --smoke    the same with tiny sizes, written to a temp folder: for CI
// dotnet run -c Release --project Clickstream.Benchmarks -- --smoke           the same as report --smoke
// dotnet run -c Release --project Clickstream.Benchmarks -- --drain [events]    backlog drain harness (DrainBenchmark), 1,000,000 by default
// dotnet run -c Release --project Clickstream.Benchmarks -- --allocations FILE.nettrace   top allocating types of any gc-verbose trace (e.g. dotnet-trace collect --profile gc-verbose -- ... --drain)
// dotnet run -c Release --project Clickstream.Benchmarks -- [BenchmarkDotNet arguments, e.g. --filter '*Ingest*' --job short]
using BenchmarkDotNet.Running;
using Clickstream.Benchmarks;
using Clickstream.Benchmarks.Harness;
using Clickstream.Benchmarks.Report;

if (args is [ChildProcess.Command, .. var childArgs])
{
    return await ChildProcess.MainAsync(childArgs);
}

if (args is [DrainBenchmark.Flag, .. var drainArgs])
{
    return await DrainBenchmark.RunAsync(drainArgs.Length > 0 ? int.Parse(drainArgs[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
}

if (args is ["--allocations", var tracePath])
{
    foreach (var type in AllocationProfile.Summarise(tracePath).Take(20))
    {
        Console.WriteLine($"{type.Share,7:P1}  {type.SampledBytes / (1024.0 * 1024.0),9:N1} MB sampled  {type.Type}");
    }

    return 0;
}

if (args is ["report", .. var reportArgs])
{
    return await SuiteRunner.RunAsync(reportArgs);
}

if (args is ["--smoke", .. var smokeArgs])
{
    return await SuiteRunner.RunAsync(["--smoke", .. smokeArgs]);
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(TrackAsyncBenchmarks).Assembly).Run(args);
foreach (var summary in summaries)
{
    if (summary.HasCriticalValidationErrors || Array.Exists(summary.Reports.ToArray(), r => !r.Success))
    {
        return 1;
    }
}

return 0;
