using System.Text;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>A reported event the collector never received, and where in the run it was reported.</summary>
/// <param name="Number">The event's number.</param>
/// <param name="Round">The child (0-based) that reported it, or <see cref="SeededRound"/> for an event of the legacy store.</param>
/// <param name="Position">Its position among that child's reported lines (0-based).</param>
/// <param name="ChildReported">How many lines that child reported in all.</param>
/// <param name="KillPoint">Where that child was killed.</param>
internal sealed record LostEvent(int Number, int Round, int Position, int ChildReported, KillPoint KillPoint)
{
    /// <summary>The <see cref="Round"/> of an event written into the legacy store before the first child (<see cref="CrashSettings.LegacyEvents"/>).</summary>
    public const int SeededRound = -1;
}

/// <summary>One killed child.</summary>
/// <param name="Round">Its index, 0-based.</param>
/// <param name="From">Its first number.</param>
/// <param name="KillPoint">Where it was killed.</param>
/// <param name="Reported">The lines it reported.</param>
/// <param name="ReportedAfterKill">Of those, lines read after the kill was signalled (already in the pipe).</param>
internal sealed record CrashRound(int Round, int From, KillPoint KillPoint, int Reported, int ReportedAfterKill);

/// <summary>The verdict of a crash run.</summary>
internal sealed record CrashReport
{
    public required CrashSettings Settings { get; init; }

    /// <summary>Children killed with SIGKILL.</summary>
    public required int Kills { get; init; }

    public required IReadOnlyDictionary<KillPhase, int> KillsByPhase { get; init; }

    /// <summary>Distinct numbers the children reported (each a completed TrackAsync).</summary>
    public required long ReportedEvents { get; init; }

    /// <summary>Events the collector accepted, duplicates included.</summary>
    public required long ReceivedEvents { get; init; }

    /// <summary>Reported numbers the collector never received: must be empty.</summary>
    public required IReadOnlyList<LostEvent> Lost { get; init; }

    /// <summary>Extra copies: for each number, the times it was received beyond the first.</summary>
    public required long Duplicates { get; init; }

    /// <summary>Numbers received more than once.</summary>
    public required long DuplicatedNumbers { get; init; }

    /// <summary>Numbers received but never reported: committed, but the child was killed before it printed them.</summary>
    public required long ReceivedUnreported { get; init; }

    /// <summary>Received events whose bytes are not a numbered purchase: must be 0.</summary>
    public required long Undecodable { get; init; }

    /// <summary>Events still on disk after the final flush child's FlushAsync: must be 0.</summary>
    public required long PendingAfterFlush { get; init; }

    /// <summary>Output bytes after a child's last newline (a line cut in half): never expected.</summary>
    public required long PartialLines { get; init; }

    public required IReadOnlyList<CrashRound> Rounds { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>The store folder, kept when something was lost; null when deleted.</summary>
    public string? KeptFolder { get; init; }

    /// <summary>
    /// <see cref="CrashSettings.DuplicateBound"/>, plus for each injected write failure the requests in flight: an ack
    /// whose transaction it failed leaves their events on disk, sent again if a kill comes before the ack is applied.
    /// </summary>
    public long DuplicateBound => Settings.DuplicateBound + (FailedWrites * Settings.ConcurrentRequests * Settings.BatchSize);

    /// <summary>Distinct event numbers the children's stores evicted (or were about to: printed before the commit).</summary>
    public long Evicted { get; init; }

    /// <summary>Reported numbers never received that were evicted: allowed, and not in <see cref="Lost"/>.</summary>
    public long LostEvicted { get; init; }

    /// <summary>Children killed (and, with power cuts, cut) before their migration of the legacy store finished.</summary>
    public int KillsDuringMigration { get; init; }

    /// <summary>Store compactions the children printed.</summary>
    public long Compactions { get; init; }

    /// <summary>Injected write failures the children printed.</summary>
    public long FailedWrites { get; init; }

    /// <summary>With <see cref="CrashSettings.RarePaths"/>: the run crossed an eviction, a compaction and a failed write.</summary>
    public bool ReachedRarePaths => !Settings.RarePaths || (Evicted > 0 && Compactions > 0 && FailedWrites > 0);

    /// <summary>Power cuts (LazyFS cleared its unsynced writes after a kill); 0 in a kills-only run.</summary>
    public int PowerCuts { get; init; }

    /// <summary>Store files judged unreadable at open and moved aside during the run (<c>events.db.corrupt-*</c>).</summary>
    public int StoresMovedAside { get; init; }

    /// <summary>The lost events of each child that lost any, by child (a power cut loses what its child had not synced).</summary>
    public IReadOnlyDictionary<int, int> LostByRound()
    {
        var lost = new SortedDictionary<int, int>();
        foreach (var e in Lost)
        {
            lost[e.Round] = lost.GetValueOrDefault(e.Round) + 1;
        }

        return lost;
    }

    /// <summary>
    /// No loss, duplicates within the bound, nothing left on disk, every received event readable, the rare paths reached.
    /// With power cuts duplicates have no bound: a cut also drops the acks not synced yet, whose events are sent again.
    /// </summary>
    public bool Passed => Lost.Count == 0 && (PowerCuts > 0 || Duplicates <= DuplicateBound) && PendingAfterFlush == 0 && Undecodable == 0 && ReachedRarePaths;

    /// <summary>One line with the figures.</summary>
    public string Summary() => FormattableString.Invariant(
        $"kills {Kills} (opening {Phase(KillPhase.Opening)}, migrating {KillsDuringMigration}, ready {Phase(KillPhase.Ready)}, tracking {Phase(KillPhase.Tracking)}), reported {ReportedEvents:N0}, received {ReceivedEvents:N0}, lost {Lost.Count}, duplicates {Duplicates:N0} in {DuplicatedNumbers:N0} events (bound {DuplicateBound:N0}), received unreported {ReceivedUnreported:N0}, left on disk {PendingAfterFlush}, evicted {Evicted:N0} ({LostEvicted:N0} of them reported), compactions {Compactions}, failed writes {FailedWrites}, in {Elapsed.TotalSeconds:F1} s");

    /// <summary>The lost numbers grouped by child, with where each child was killed; empty when nothing was lost.</summary>
    public string DescribeLost()
    {
        if (Lost.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder(FormattableString.Invariant($"{Lost.Count} reported events never arrived:"));
        foreach (var group in Lost.GroupBy(l => l.Round))
        {
            var first = group.First();
            var positions = group.Select(l => l.Position).ToArray();
            text.Append(first.Round == LostEvent.SeededRound ? "\n  the legacy store" : FormattableString.Invariant($"\n  child {first.Round}")).Append(FormattableString.Invariant(
                $" (killed {first.KillPoint}, reported {first.ChildReported}): {group.Count()} lost, numbers {string.Join(", ", group.Select(l => l.Number).Take(20))}{(group.Count() > 20 ? ", ..." : "")}, at report positions {positions.Min()}..{positions.Max()}"));
        }

        if (KeptFolder is not null)
        {
            text.Append("\n  store kept in ").Append(KeptFolder);
        }

        return text.ToString();
    }

    private int Phase(KillPhase phase) => KillsByPhase.TryGetValue(phase, out var count) ? count : 0;
}
