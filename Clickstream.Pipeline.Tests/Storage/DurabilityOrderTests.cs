using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Clickstream.Collector;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Crash;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>
/// The order in which the store's writes reach the device (issue 16), read from the system calls of a real
/// process: a <c>crash-child</c> (this assembly) run under <c>strace</c> creates a store, commits past several
/// checkpoints and compacts, and the trace must show each sync where the design puts it. LazyFS (Crash/PowerCutTests)
/// proves the data file's syncs, but it applies folder entries and truncations to its backing folder at once, so
/// the log's sync after it is emptied and the folder syncs would pass there without their fixes; here they cannot.
/// </summary>
/// <remarks>
/// Needs <c>strace</c> (Debian package <c>strace</c>, installed by <c>.ci/run</c>); only its absence skips the test.
/// File descriptors are mapped to paths by the traced <c>openat</c> and <c>close</c> calls.
/// </remarks>
[Category("Crash")]
[NonParallelizable]
public partial class DurabilityOrderTests
{
    private const string TracedCalls = "openat,close,fsync,fdatasync,ftruncate,pwrite64,pwritev,rename,renameat,renameat2";

    [Test]
    public async Task Store_syncs_folders_data_and_emptied_log_in_the_order_a_power_cut_needs()
    {
        var strace = FindOnPath("strace");
        if (strace is null)
        {
            Assert.Ignore("strace is not installed (Debian package strace; .ci/run installs it): the durability order test needs it to read the store's system calls.");
        }

        using var folder = new TempFolder();
        var store = folder.StorePath;
        var log = StoreDatabase.LogPathOf(store);
        var tracePath = Path.Combine(folder.Path, "trace.txt");
        var guard = Timeouts.Guard(120);
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions(), guard);

        // The crash test's rare paths: checkpoints every 128 KiB of log and compaction from 32 KiB, with a bound
        // of 300 stored events, so that a few thousand events cross many checkpoints and at least one compaction.
        var compactions = await RunTracedChildAsync(strace!, tracePath, collector.EventsEndpoint, store, guard);
        var trace = Trace.Parse(await File.ReadAllLinesAsync(tracePath, guard));

        var storeFolder = folder.Path;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(compactions, Is.Positive, "compactions the child reported");

            // A new file's name is durable only once its folder is synced: before anything is written into it.
            foreach (var file in new[] { store, log })
            {
                var created = trace.FirstIndex(c => c.Name == "openat" && c.Path == file);
                Assert.That(created, Is.Not.Negative, $"{file} opened");
                if (created < 0)
                {
                    continue;
                }

                var folderSynced = trace.FirstIndex(c => c.Name == "fsync" && c.Path == storeFolder, from: created + 1);
                var firstWrite = trace.FirstIndex(c => c.IsWrite && c.Path == file, from: created + 1);
                Assert.That(folderSynced >= 0 && (firstWrite < 0 || folderSynced < firstWrite), Is.True,
                    $"the store folder fsynced after {Path.GetFileName(file)} was created (line {trace[created].Line}) and before its first write");
            }

            // Each checkpoint: the data pages on the device before the log is emptied, and the emptied log synced
            // before it is written again (else a cut brings back an old log, replayed over newer data pages).
            // Each list holds the trace lines of the calls out of order.
            var truncations = trace.Indexes(c => c.Name == "ftruncate" && c.Path == log && c.Argument(1) == "0");
            Assert.That(truncations, Is.Not.Empty, "the log emptied by a checkpoint");
            var unsyncedData = new List<int>();
            var unsyncedLog = new List<int>();
            foreach (var truncation in truncations)
            {
                var lastDataWrite = trace.LastIndex(c => c.IsWrite && c.Path == store, before: truncation);
                if (lastDataWrite >= 0 && trace.FirstIndex(c => c.IsSync && c.Path == store, from: lastDataWrite + 1) is var synced && (synced < 0 || synced > truncation))
                {
                    unsyncedData.Add(trace[truncation].Line);
                }

                var next = trace.FirstIndex(c => (c.IsWrite || c.IsSync) && c.Path == log, from: truncation + 1);
                if (next >= 0 && !trace[next].IsSync)
                {
                    unsyncedLog.Add(trace[truncation].Line);
                }
            }

            Assert.That(unsyncedData, Is.Empty, $"log ftruncates (of {truncations.Count}) not preceded by an fsync of the data file after its last write");
            Assert.That(unsyncedLog, Is.Empty, $"log ftruncates (of {truncations.Count}) not followed by an fsync of the log before its next write");

            // A compaction's rename reaches the device before the next commit writes to the new file or its log.
            var renames = trace.Indexes(c => c.IsRename && c.Path == store);
            Assert.That(renames, Is.Not.Empty, "the compacted copy renamed over the store");
            var unsyncedRenames = new List<int>();
            foreach (var rename in renames)
            {
                var folderSynced = trace.FirstIndex(c => c.Name == "fsync" && c.Path == storeFolder, from: rename + 1);
                var nextWrite = trace.FirstIndex(c => c.IsWrite && (c.Path == store || c.Path == log), from: rename + 1);
                if (folderSynced < 0 || (nextWrite >= 0 && folderSynced > nextWrite))
                {
                    unsyncedRenames.Add(trace[rename].Line);
                }
            }

            Assert.That(unsyncedRenames, Is.Empty, $"compaction renames (of {renames.Count}) not followed by an fsync of the store folder before the store is written again");
        }
    }

    [Test]
    public async Task Damaged_store_is_moved_aside_and_salvaged_with_the_syncs_a_power_cut_needs()
    {
        var strace = FindOnPath("strace");
        if (strace is null)
        {
            Assert.Ignore("strace is not installed (Debian package strace; .ci/run installs it): the durability order test needs it to read the store's system calls.");
        }

        using var folder = new TempFolder();
        var store = folder.StorePath;
        var tracePath = Path.Combine(folder.Path, "trace.txt");
        var guard = Timeouts.Guard(120);
        await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions(), guard);

        // Not a LiteDB file at all: the child's open moves it aside, creates a new store and salvages what it can.
        await File.WriteAllBytesAsync(store, Enumerable.Repeat((byte)0xAB, 64 * 1024).ToArray(), guard);
        await RunTracedAsync(
            strace!,
            tracePath,
            ["--" + CrashChildCommand.EndpointOption, collector.EventsEndpoint.ToString(), "--" + CrashChildCommand.StoreOption, store, "--" + CrashChildCommand.FlushOption],
            line => line.StartsWith(ChildLines.Flushed, StringComparison.Ordinal),
            guard);
        var trace = Trace.Parse(await File.ReadAllLinesAsync(tracePath, guard));

        var log = StoreDatabase.LogPathOf(store);
        var movedAside = trace.FirstIndex(c => c.IsRename && c.Path is { } p && p.StartsWith(store + ".corrupt-", StringComparison.Ordinal) && p.EndsWith(StoreDatabase.UnsalvagedSuffix, StringComparison.Ordinal));
        Assert.That(movedAside, Is.Not.Negative, "the damaged store renamed aside, marked unsalvaged");
        var marked = trace[movedAside].Path!;
        var created = trace.FirstIndex(c => c.Name == "openat" && c.Path == store, from: movedAside + 1);
        var salvaged = trace.FirstIndex(c => c.IsRename && c.Path == marked[..^StoreDatabase.UnsalvagedSuffix.Length], from: movedAside + 1);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(created, Is.Not.Negative, "a new store created in its place");
            Assert.That(salvaged, Is.Not.Negative, "the mark dropped once the salvage is done");
            var folderSynced = trace.FirstIndex(c => c.Name == "fsync" && c.Path == folder.Path, from: movedAside + 1);
            Assert.That(folderSynced >= 0 && folderSynced < created, Is.True, "the store folder fsynced after the move aside and before the new store is created");
            if (salvaged >= 0)
            {
                // The salvaged events are on the device before the mark goes: else a cut loses them with no mark
                // left to salvage them again at the next open.
                var lastLogWrite = trace.LastIndex(c => c.IsWrite && c.Path == log, before: salvaged);
                var logSynced = trace.FirstIndex(c => c.IsSync && c.Path == log, from: lastLogWrite + 1);
                Assert.That(lastLogWrite, Is.Not.Negative, "the salvage committed into the new store's log");
                Assert.That(logSynced >= 0 && logSynced < salvaged, Is.True, "the new store's log fsynced after the salvage's last write and before the mark is dropped");
                Assert.That(trace.FirstIndex(c => c.Name == "fsync" && c.Path == folder.Path, from: salvaged + 1), Is.Not.Negative, "the folder fsynced after the mark is dropped");
            }
        }
    }

    /// <summary>Runs the child under strace until it has tracked its events and compacted; its compactions.</summary>
    private static async Task<int> RunTracedChildAsync(string strace, string tracePath, Uri endpoint, string store, CancellationToken cancellationToken)
    {
        var done = false;
        var compactions = 0;
        await RunTracedAsync(
            strace,
            tracePath,
            [
                "--" + CrashChildCommand.EndpointOption, endpoint.ToString(),
                "--" + CrashChildCommand.StoreOption, store,
                "--" + CrashChildCommand.CountOption, "3000",
                "--" + CrashChildCommand.RarePathsOption,
                "--" + CrashChildCommand.MaxStoredEventsOption, "300",
                "--" + CrashChildCommand.FlushCommitsToDiskOption,
            ],
            line =>
            {
                done |= line == ChildLines.Done;
                compactions += line == ChildLines.Compacted ? 1 : 0;
                return done && compactions > 0;
            },
            cancellationToken);
        return compactions;
    }

    /// <summary>
    /// Runs <c>crash-child</c> with <paramref name="arguments"/> under strace, giving each output line to
    /// <paramref name="enough"/> until it returns true; then closes the child's standard input, which ends it
    /// cleanly (its store closes: one more checkpoint), and reads its output to the end.
    /// </summary>
    private static async Task RunTracedAsync(string strace, string tracePath, string[] arguments, Func<string, bool> enough, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(strace)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])
        [
            "-f", "--seccomp-bpf", "-s", "0", "-e", "trace=" + TracedCalls, "-o", tracePath,
            ChildProcess.DotnetHost(), typeof(CrashHarness).Assembly.Location, CrashChildCommand.CommandName,
            .. arguments,
        ])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start strace.");
        try
        {
            var standardError = process.StandardError.ReadToEndAsync(cancellationToken);
            while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line && !enough(line))
            {
            }

            process.StandardInput.Close();
            while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
            {
                enough(line);
            }

            await process.WaitForExitAsync(cancellationToken);
            Assert.That(process.ExitCode, Is.Zero, $"strace and the child's exit code; standard error:\n{await standardError}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static string? FindOnPath(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>One successful traced call, its file descriptor resolved to the path it was opened with.</summary>
    private sealed record Call(int Line, string Name, string Arguments, string? Path, string Text)
    {
        public bool IsWrite => Name is "pwrite64" or "pwritev";

        public bool IsSync => Name is "fsync" or "fdatasync";

        public bool IsRename => Name is "rename" or "renameat" or "renameat2";

        public string Argument(int index)
        {
            var parts = Arguments.Split(',', StringSplitOptions.TrimEntries);
            return index < parts.Length ? parts[index] : "";
        }
    }

    private sealed partial class Trace(List<Call> calls)
    {
        public Call this[int index] => calls[index];

        /// <summary>Reads strace -f output: <c>pid name(args) = result</c>, a call split by another thread's as <c>&lt;unfinished ...&gt;</c> and <c>&lt;... name resumed&gt;</c>.</summary>
        public static Trace Parse(string[] lines)
        {
            var calls = new List<Call>();
            var unfinished = new Dictionary<string, string>();
            var paths = new Dictionary<string, string>();
            for (var i = 0; i < lines.Length; i++)
            {
                var text = lines[i];
                var pid = text.Split(' ', 2)[0];
                if (text.EndsWith(" <unfinished ...>", StringComparison.Ordinal))
                {
                    unfinished[pid] = text[..^" <unfinished ...>".Length];
                    continue;
                }

                if (Resumed().Match(text) is { Success: true } resumed && unfinished.Remove(pid, out var start))
                {
                    text = start + resumed.Groups[1].Value;
                }

                var match = Complete().Match(text);
                if (!match.Success || !long.TryParse(match.Groups[3].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var result) || result < 0)
                {
                    continue;
                }

                var name = match.Groups[1].Value;
                var arguments = match.Groups[2].Value;
                var fd = arguments.Split(',', 2)[0].Trim();
                string? path;
                switch (name)
                {
                    case "openat":
                        path = Quoted().Match(arguments).Groups[1].Value;
                        paths[result.ToString(CultureInfo.InvariantCulture)] = path;
                        break;
                    case "close":
                        paths.Remove(fd, out path);
                        break;
                    case "rename" or "renameat" or "renameat2":
                        // The target: the path whose entry the rename changes.
                        var quoted = Quoted().Matches(arguments);
                        path = quoted.Count == 2 ? quoted[1].Groups[1].Value : null;
                        break;
                    default:
                        path = paths.GetValueOrDefault(fd);
                        break;
                }

                calls.Add(new Call(i + 1, name, arguments, path, lines[i]));
            }

            return new Trace(calls);
        }

        public int FirstIndex(Func<Call, bool> predicate, int from = 0)
        {
            for (var i = from; i < calls.Count; i++)
            {
                if (predicate(calls[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        public int LastIndex(Func<Call, bool> predicate, int before)
        {
            for (var i = before - 1; i >= 0; i--)
            {
                if (predicate(calls[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        public List<int> Indexes(Func<Call, bool> predicate)
        {
            var found = new List<int>();
            for (var i = 0; i < calls.Count; i++)
            {
                if (predicate(calls[i]))
                {
                    found.Add(i);
                }
            }

            return found;
        }

        [GeneratedRegex(@"^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")]
        private static partial Regex Complete();

        [GeneratedRegex(@"^\d+\s+<\.\.\. \w+ resumed>(.*)$")]
        private static partial Regex Resumed();

        [GeneratedRegex("\"([^\"]*)\"")]
        private static partial Regex Quoted();
    }
}
