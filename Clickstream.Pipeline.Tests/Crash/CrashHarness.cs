using System.Diagnostics;
using System.Globalization;
using Clickstream.Collector;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// The crash test, shared by the NUnit test (CI, 20 kills) and <c>crash-test</c> (long runs): a real collector
/// in this process, one store file, and <see cref="CrashSettings.Kills"/> children each tracking its own range
/// of numbered QoS1 events until it is killed with SIGKILL at a random point; then a last child that only
/// flushes what the others left. Every number a child reported must have reached the collector.
/// </summary>
/// <remarks>
/// There is no sleep anywhere: the kill is triggered by the child's own output, and where it lands in the
/// child's background work (group commit, send, ack, backlog re-send) is up to the two processes' scheduling.
/// The event number travels in the event itself: <c>SampleEvents.Purchase(n)</c> has <c>OrderId</c> <c>o-n</c>,
/// which the harness reads back from the bytes the collector received.
/// </remarks>
internal static class CrashHarness
{
    private const string OrderIdPrefix = "o-";

    /// <summary>Runs the crash test.</summary>
    /// <param name="settings">What to run.</param>
    /// <param name="progress">Gets one line per child, or null.</param>
    /// <param name="cancellationToken">Stops the run (the current child is killed).</param>
    /// <exception cref="CrashHarnessException">A child could not run as planned.</exception>
    public static async Task<CrashReport> RunAsync(CrashSettings settings, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(settings.Kills);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxLinesBeforeKill, 1);
        if (((long)settings.Kills * settings.RangeSize) + settings.LegacyEvents > int.MaxValue)
        {
            throw new ArgumentException("Kills x RangeSize + LegacyEvents must fit the event numbers (int).", nameof(settings));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(settings.LegacyEvents);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MigrationChunk, 1);

        var start = Stopwatch.GetTimestamp();
        // No '-' before the random part: LazyFS ignores a --config-path containing "-o" (any case) and aborts.
        var folder = Directory.CreateTempSubdirectory("clickstream_crash_");
        var keepFolder = false;
        try
        {
            await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = true }, cancellationToken);
            await using var power = settings.LazyFs is { } lazyFs ? await LazyFsMount.MountAsync(lazyFs, folder.FullName, cancellationToken) : null;
            var store = Path.Combine(power?.Folder ?? folder.FullName, "events.db");
            var random = new Random(settings.Seed);
            var reported = new List<IReadOnlyList<int>>(settings.Kills);
            var rounds = new List<CrashRound>(settings.Kills);
            var partialLines = 0L;
            var evicted = new HashSet<int>();
            var compactions = 0L;
            var failedWrites = 0L;
            var faults = new Random(settings.Seed + 1);

            // The numbers after every child's range: events "tracked" by an earlier version, before this run.
            var seeded = settings.LegacyEvents > 0
                ? LegacyStore.Seed(store, settings.Kills * settings.RangeSize, settings.LegacyEvents, TimeProvider.System)
                : [];
            var migrating = seeded.Count > 0;
            var migrationTransactions = (settings.LegacyEvents + settings.MigrationChunk - 1) / settings.MigrationChunk;
            var killsDuringMigration = 0;
            var movedAsideBefore = 0;
            KillPoint? previousKill = null;

            for (var round = 0; round < settings.Kills; round++)
            {
                var killAt = migrating ? KillPoint.ChooseMigrating(random, migrationTransactions) : KillPoint.Choose(random, settings.MaxLinesBeforeKill);
                var from = round * settings.RangeSize;
                string[] extra = settings.RarePaths
                    ? ["--from", Invariant(from), "--count", Invariant(settings.RangeSize), $"--{CrashChildCommand.FailWriteOption}", Invariant(faults.Next(1, settings.MaxWritesBeforeFailure + 1))]
                    : ["--from", Invariant(from), "--count", Invariant(settings.RangeSize)];
                // While it migrates, the legacy store's events fit beside the bound: a migration that only evicted
                // would prove little. Once it is done, the bound applies to them as to any backlog.
                var child = migrating ? settings with { MaxStoredEvents = settings.MaxStoredEvents + settings.LegacyEvents } : settings;
                var outcome = await RunChildAsync(child, collector, store, killAt, extra, cancellationToken);
                if (migrating && !outcome.Opened)
                {
                    killsDuringMigration++;
                }

                migrating &= !outcome.Opened;
                var movedAside = MovedAside(store);
                if (movedAside > movedAsideBefore)
                {
                    // Found damaged at open: the cut after the child before did it. Why, as the child logged it.
                    var why = string.Join(" / ", outcome.StandardError.Split('\n').Where(l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal)).Take(4));
                    progress?.Invoke(FormattableString.Invariant(
                        $"store moved aside by child {round} (after the cut that followed child {round - 1}, killed {previousKill}): {why}"));
                    movedAsideBefore = movedAside;
                }

                previousKill = killAt;
                reported.Add(outcome.Numbers);
                if (power is not null)
                {
                    await power.CutPowerAsync(cancellationToken);
                }

                partialLines += outcome.PartialLineBytes;
                evicted.UnionWith(outcome.Evicted);
                compactions += outcome.Compactions;
                failedWrites += outcome.FailedWrites;
                var result = new CrashRound(round, from, killAt, outcome.Numbers.Count, outcome.Numbers.Count - outcome.NumbersBeforeKill);
                rounds.Add(result);
                progress?.Invoke(FormattableString.Invariant(
                    $"child {round}: numbers from {from:N0}, killed {killAt}: reported {result.Reported:N0} ({result.ReportedAfterKill} read after the kill); collector has {collector.Stats.Events:N0}"));
            }

            var flush = await RunChildAsync(settings, collector, store, killAt: null, [$"--{CrashChildCommand.FlushOption}"], cancellationToken);
            if (flush.ExitCode != 0 || flush.Flushed is null || !long.TryParse(flush.Flushed, CultureInfo.InvariantCulture, out var pendingAfterFlush))
            {
                throw new CrashHarnessException($"The flush child failed (exit code {flush.ExitCode}). Its standard error:\n{flush.StandardError}");
            }

            progress?.Invoke(FormattableString.Invariant($"flush child: {pendingAfterFlush} events left on disk; collector has {collector.Stats.Events:N0}"));
            evicted.UnionWith(flush.Evicted);
            compactions += flush.Compactions;

            var report = Analyse(settings, collector.Stats.ReceivedEvents(), reported, seeded, rounds, pendingAfterFlush, partialLines, Stopwatch.GetElapsedTime(start)) with
            {
                KillsDuringMigration = killsDuringMigration,
                Evicted = evicted.Count,
                Compactions = compactions,
                FailedWrites = failedWrites,
                PowerCuts = power?.Cuts ?? 0,
                StoresMovedAside = MovedAside(store),
            };
            report = report with { Lost = report.Lost.Where(l => !evicted.Contains(l.Number)).ToList(), LostEvicted = report.Lost.Count(l => evicted.Contains(l.Number)) };
            keepFolder = report.Lost.Count > 0;
            return keepFolder ? report with { KeptFolder = folder.FullName } : report;
        }
        finally
        {
            if (!keepFolder)
            {
                TryDelete(folder);
            }
        }
    }

    private static async Task<ChildOutcome> RunChildAsync(
        CrashSettings settings, RaccoonCollector collector, string store, KillPoint? killAt, string[] extra, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            $"--{CrashChildCommand.EndpointOption}", collector.EventsEndpoint.ToString(),
            $"--{CrashChildCommand.StoreOption}", store,
            $"--{CrashChildCommand.ProducersOption}", Invariant(settings.Producers),
            $"--{CrashChildCommand.BatchSizeOption}", Invariant(settings.BatchSize),
            $"--{CrashChildCommand.RequestsOption}", Invariant(settings.ConcurrentRequests),
            .. extra,
            .. settings.FlushCommitsToDisk ? [$"--{CrashChildCommand.FlushCommitsToDiskOption}"] : Array.Empty<string>(),
            .. settings.LegacyEvents > 0 ? [$"--{CrashChildCommand.MigrationChunkOption}", Invariant(settings.MigrationChunk)] : Array.Empty<string>(),
        ];
        if (settings.RarePaths)
        {
            arguments = [.. arguments, $"--{CrashChildCommand.RarePathsOption}", $"--{CrashChildCommand.MaxStoredEventsOption}", Invariant(settings.MaxStoredEvents)];
        }

        using var guard = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        guard.CancelAfter(settings.ChildTimeout);
        try
        {
            return await ChildProcess.RunAsync(settings.ChildAssembly, arguments, killAt, guard.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CrashHarnessException($"A child ({killAt?.ToString() ?? "flush"}) did not finish within {settings.ChildTimeout}; it was killed.");
        }
    }

    private static CrashReport Analyse(
        CrashSettings settings,
        IReadOnlyList<ReceivedEvent> received,
        List<IReadOnlyList<int>> reported,
        IReadOnlyList<int> seeded,
        List<CrashRound> rounds,
        long pendingAfterFlush,
        long partialLines,
        TimeSpan elapsed)
    {
        var copies = new Dictionary<int, int>(received.Count);
        var undecodable = 0L;
        foreach (var e in received)
        {
            if (TryReadNumber(e.Bytes, out var number))
            {
                copies[number] = copies.GetValueOrDefault(number) + 1;
            }
            else
            {
                undecodable++;
            }
        }

        var lost = new List<LostEvent>();
        var reportedNumbers = new HashSet<int>();
        for (var round = 0; round < reported.Count; round++)
        {
            var numbers = reported[round];
            for (var position = 0; position < numbers.Count; position++)
            {
                var number = numbers[position];
                reportedNumbers.Add(number);
                if (!copies.ContainsKey(number))
                {
                    lost.Add(new LostEvent(number, round, position, numbers.Count, rounds[round].KillPoint));
                }
            }
        }

        for (var position = 0; position < seeded.Count; position++)
        {
            var number = seeded[position];
            reportedNumbers.Add(number);
            if (!copies.ContainsKey(number))
            {
                lost.Add(new LostEvent(number, LostEvent.SeededRound, position, seeded.Count, new KillPoint(KillPhase.Migrating, 0)));
            }
        }

        long duplicates = 0;
        long duplicatedNumbers = 0;
        long receivedUnreported = 0;
        foreach (var (number, count) in copies)
        {
            if (count > 1)
            {
                duplicates += count - 1;
                duplicatedNumbers++;
            }

            if (!reportedNumbers.Contains(number))
            {
                receivedUnreported++;
            }
        }

        var byPhase = new Dictionary<KillPhase, int>();
        foreach (var round in rounds)
        {
            byPhase[round.KillPoint.Phase] = byPhase.GetValueOrDefault(round.KillPoint.Phase) + 1;
        }

        return new CrashReport
        {
            Settings = settings,
            Kills = rounds.Count,
            KillsByPhase = byPhase,
            ReportedEvents = reportedNumbers.Count,
            ReceivedEvents = received.Count,
            Lost = lost,
            Duplicates = duplicates,
            DuplicatedNumbers = duplicatedNumbers,
            ReceivedUnreported = receivedUnreported,
            Undecodable = undecodable,
            PendingAfterFlush = pendingAfterFlush,
            PartialLines = partialLines,
            Rounds = rounds,
            Elapsed = elapsed,
        };
    }

    /// <summary>Reads the number back from a received event: a <see cref="Purchase"/> whose OrderId is <c>o-&lt;n&gt;</c>.</summary>
    internal static bool TryReadNumber(byte[] bytes, out int number)
    {
        number = 0;
        try
        {
            var orderId = Purchase.Parser.ParseFrom(bytes).OrderId;
            return orderId.StartsWith(OrderIdPrefix, StringComparison.Ordinal)
                && int.TryParse(orderId.AsSpan(OrderIdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out number);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Store files judged damaged and moved aside so far (<c>events.db.corrupt-*</c>).</summary>
    private static int MovedAside(string store) => Directory.GetFiles(Path.GetDirectoryName(store)!, Path.GetFileName(store) + ".corrupt-*").Length;

    private static void TryDelete(DirectoryInfo folder)
    {
        try
        {
            folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still open after a failure: the OS's temp cleanup takes it.
        }
    }
}
