// dotnet run -c Release --project Clickstream.Benchmarks -- [BenchmarkDotNet arguments, e.g. --filter '*' --job short]
// dotnet run -c Release --project Clickstream.Benchmarks -- --smoke    (every benchmark once, BenchmarkDotNet's Dry job: for CI)
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Clickstream.Benchmarks;

const string SmokeFlag = "--smoke";

IConfig? config = null;
if (Array.IndexOf(args, SmokeFlag) >= 0)
{
    // One launch, one iteration per benchmark: checks that every benchmark still builds and runs, measures nothing.
    config = DefaultConfig.Instance.AddJob(Job.Dry);
    args = Array.FindAll(args, a => a != SmokeFlag);
    if (Array.IndexOf(args, "--filter") < 0)
    {
        args = [.. args, "--filter", "*"];
    }
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(TrackAsyncBenchmarks).Assembly).Run(args, config);
foreach (var summary in summaries)
{
    if (summary.HasCriticalValidationErrors || Array.Exists(summary.Reports.ToArray(), r => !r.Success))
    {
        return 1;
    }
}

return 0;
