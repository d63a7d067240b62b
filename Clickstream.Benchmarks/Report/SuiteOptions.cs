using System.Globalization;

namespace Clickstream.Benchmarks.Report;

/// <summary>
/// <c>report [--smoke] [--events N] [--runs N] [--transport-events N] [--backlog N] [--profile-events N] [--output FOLDER]
/// [--only PART,...] [--baseline PATH]</c>: the sizes of the suite's runs, which parts run (all by default), and another build to
/// compare with. The defaults keep the whole suite within about 15 minutes on a 2-core machine;
/// <c>--smoke</c> makes every run tiny (BenchmarkDotNet's dry job, in process) and writes to a temp folder, for CI.
/// </summary>
internal sealed record SuiteOptions
{
    public bool Smoke { get; init; }

    /// <summary>Events per end-to-end run (pipeline, peer, raw).</summary>
    public int Events { get; init; } = 500_000;

    /// <summary>Runs of each end-to-end contender, alternated; the report gives the median.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>Events per transport run.</summary>
    public int TransportEvents { get; init; } = 100_000;

    /// <summary>QoS1 events on disk for the backlog drain.</summary>
    public int BacklogEvents { get; init; } = 1_000_000;

    /// <summary>Events in the profiled runs.</summary>
    public int ProfileEvents { get; init; } = 300_000;

    /// <summary>Where BENCHMARKS.md and docs/benchmarks/e2e.png are written: the repository, or a temp folder for smoke.</summary>
    public string? Output { get; init; }

    /// <summary>The parts to run (<see cref="Parts"/>), or null for all: to iterate on one part (the report leaves the others "not run").</summary>
    public IReadOnlySet<string>? Only { get; init; }

    /// <summary>
    /// Another build's <c>Clickstream.Benchmarks.dll</c> (an earlier commit built in Release in another worktree), or null:
    /// its pipeline contenders, backlog and BenchmarkDotNet classes run in the same run, for the "Before / after" table.
    /// </summary>
    public string? Baseline { get; init; }

    /// <summary>The parts of the suite, for <c>--only</c>.</summary>
    public static readonly string[] Parts = ["delivery", "profiles", "backlog", "benchmarks"];

    /// <summary>Whether <paramref name="part"/> (one of <see cref="Parts"/>) runs.</summary>
    public bool Includes(string part) => Only is null || Only.Contains(part);

    /// <summary>The arguments as given, for the report's "command" line.</summary>
    public string Arguments { get; init; } = string.Empty;

    public static SuiteOptions Parse(string[] args)
    {
        var options = new SuiteOptions { Arguments = string.Join(' ', args) };
        if (Array.IndexOf(args, "--smoke") >= 0)
        {
            options = options with { Smoke = true, Events = 2_000, Runs = 1, TransportEvents = 1_000, BacklogEvents = 2_000, ProfileEvents = 2_000 };
        }

        for (var i = 0; i < args.Length; i++)
        {
            int Next() => i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new ArgumentException($"{args[i]} needs a positive number.");
            options = args[i] switch
            {
                "--smoke" => options,
                "--events" => options with { Events = Next() },
                "--runs" => options with { Runs = Next() },
                "--transport-events" => options with { TransportEvents = Next() },
                "--backlog" => options with { BacklogEvents = Next() },
                "--profile-events" => options with { ProfileEvents = Next() },
                "--output" when i + 1 < args.Length => options with { Output = args[i + 1] },
                "--only" when i + 1 < args.Length => options with { Only = ParseParts(args[i + 1]) },
                "--baseline" when i + 1 < args.Length => options with { Baseline = ParseBaseline(args[i + 1]) },
                _ when i > 0 && args[i - 1] is "--events" or "--runs" or "--transport-events" or "--backlog" or "--profile-events" or "--output" or "--only" or "--baseline" => options,
                _ => throw new ArgumentException($"Unknown report argument '{args[i]}'. Usage: report [--smoke] [--events N] [--runs N] [--transport-events N] [--backlog N] [--profile-events N] [--output FOLDER] [--only {string.Join(',', Parts)}] [--baseline PATH/Clickstream.Benchmarks.dll]"),
            };
        }

        return options;
    }

    private static string ParseBaseline(string value)
    {
        var path = Path.GetFullPath(value);
        return File.Exists(path) && Path.GetExtension(path) == ".dll"
            ? path
            : throw new ArgumentException($"--baseline: '{value}' is not a built Clickstream.Benchmarks.dll (build the other worktree with `dotnet build -c Release Clickstream.Benchmarks`).");
    }

    private static HashSet<string> ParseParts(string value)
    {
        var parts = new HashSet<string>(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
        foreach (var part in parts)
        {
            if (Array.IndexOf(Parts, part) < 0)
            {
                throw new ArgumentException($"--only: unknown part '{part}'; the parts are {string.Join(", ", Parts)}.");
            }
        }

        return parts;
    }
}
