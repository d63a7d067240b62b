namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>The line of the child's output after which the harness kills it.</summary>
internal enum KillPhase
{
    /// <summary>On <see cref="ChildLines.Opening"/>: the child is opening the store (LiteDB open, recovery, checkpoint).</summary>
    Opening,

    /// <summary>After a number of <see cref="ChildLines.Migrated"/> lines: the store of the legacy layout is being migrated.</summary>
    Migrating,

    /// <summary>On <see cref="ChildLines.Ready"/>: the pipeline runs and re-sends what earlier children left; nothing new tracked yet.</summary>
    Ready,

    /// <summary>After a number of event lines: group commits, sends and acks of this child are under way.</summary>
    Tracking,
}

/// <summary>
/// When to kill one child. The child runs on while the harness reads its line and signals it, so the kill
/// lands a little later at a point nobody chose: this picks the neighbourhood, the scheduler picks the moment.
/// </summary>
/// <param name="Phase">The phase whose line triggers the kill.</param>
/// <param name="Lines">For <see cref="KillPhase.Tracking"/>, the event lines to read first (at least 1); for
/// <see cref="KillPhase.Migrating"/>, the migration transactions (0: on the first line after opening); else 0.</param>
internal readonly record struct KillPoint(KillPhase Phase, int Lines)
{
    /// <summary>
    /// A kill point from <paramref name="random"/>: one in ten on opening, one in ten on ready, three in ten
    /// among the first 100 events (first group commits and first batches), the rest anywhere up to
    /// <paramref name="maxLines"/> events (between and during batches, with a backlog in flight).
    /// </summary>
    public static KillPoint Choose(Random random, int maxLines)
    {
        var roll = random.Next(10);
        return roll switch
        {
            0 => new KillPoint(KillPhase.Opening, 0),
            1 => new KillPoint(KillPhase.Ready, 0),
            < 5 => new KillPoint(KillPhase.Tracking, random.Next(1, Math.Min(100, maxLines) + 1)),
            _ => new KillPoint(KillPhase.Tracking, random.Next(1, maxLines + 1)),
        };
    }

    /// <summary>A kill point while a store of the legacy layout migrates in <paramref name="transactions"/> transactions: after 0 to all but one of them.</summary>
    public static KillPoint ChooseMigrating(Random random, int transactions) => new(KillPhase.Migrating, random.Next(0, Math.Max(1, transactions)));

    public override string ToString() => Phase switch
    {
        KillPhase.Tracking => $"after {Lines} events",
        KillPhase.Migrating => $"after {Lines} migration transactions",
        _ => "on " + Phase.ToString().ToLowerInvariant(),
    };
}
