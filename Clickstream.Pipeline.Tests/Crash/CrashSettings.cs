namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>What <see cref="CrashHarness"/> runs: how many kills, where, and the children's pipeline options.</summary>
internal sealed record CrashSettings
{
    /// <summary>Children killed with SIGKILL, one after the other, before the final flush child. The default value is 20.</summary>
    public int Kills { get; init; } = 20;

    /// <summary>The seed of the kill points: the same seed picks the same points (the moments still vary). The default value is 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The most event lines read from a child before it is killed. The default value is 3,000.</summary>
    public int MaxLinesBeforeKill { get; init; } = 3_000;

    /// <summary>Concurrent TrackAsync callers in each child. The default value is 8.</summary>
    public int Producers { get; init; } = 8;

    /// <summary>The children's <c>MaxBatchSize</c>. The default value is 50.</summary>
    public int BatchSize { get; init; } = 50;

    /// <summary>The children's <c>MaxConcurrentRequests</c>. The default value is 4.</summary>
    public int ConcurrentRequests { get; init; } = 4;

    /// <summary>
    /// The built assembly whose entry point runs <c>crash-child</c>, run with <c>dotnet</c>. The default value is this
    /// assembly's own file (Clickstream.Pipeline.Tests.dll), next to its runtimeconfig.
    /// </summary>
    public string ChildAssembly { get; init; } = typeof(CrashHarness).Assembly.Location;

    /// <summary>The longest one child may run before the harness gives up on it (a guard, not a wait). The default value is 2 minutes.</summary>
    public TimeSpan ChildTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Whether the children also cross the store's rare paths: a bound (<see cref="MaxStoredEvents"/>) so that it
    /// evicts, checkpoint and compaction thresholds lowered (internal hooks) so that it compacts, and one write
    /// failure injected in each killed child. The default value is <see langword="true"/>.
    /// </summary>
    public bool RarePaths { get; init; } = true;

    /// <summary>With <see cref="RarePaths"/>: the children's <c>MaxStoredEvents</c>. The default value is 300.</summary>
    public int MaxStoredEvents { get; init; } = 300;

    /// <summary>With <see cref="RarePaths"/>: a killed child's injected write failure comes at a random write up to this one. The default value is 400.</summary>
    public int MaxWritesBeforeFailure { get; init; } = 400;

    /// <summary>
    /// The numbers each child gets, from <c>round x RangeSize</c>: more than it can report before its kill, so that
    /// no number is ever used by two children.
    /// </summary>
    public int RangeSize => MaxLinesBeforeKill + 1_000;

    /// <summary>
    /// The most duplicates at-least-once allows here. A duplicate is an event the collector accepted whose
    /// delete (the ack's transaction) a kill prevented, so the next child sends it again. Only requests in flight
    /// can be in that state, and the egress awaits the delete before it takes the next batch: at most
    /// <see cref="ConcurrentRequests"/> requests of at most <see cref="BatchSize"/> events per kill. (No request
    /// fails on its own against a local collector, so no retry adds duplicates.)
    /// </summary>
    public long DuplicateBound => (long)Kills * ConcurrentRequests * BatchSize;

    /// <summary>
    /// The LazyFS binary, for power cuts: the store lives on a LazyFS mount, and after each kill every write not
    /// synced to the device is dropped (<see cref="LazyFsMount"/>). The default value is null: kills only.
    /// </summary>
    public string? LazyFs { get; init; }

    /// <summary>
    /// Events in a store of the legacy layout (one document per event) written before the first child: the first
    /// children are killed while they migrate it, <see cref="MigrationChunk"/> events per transaction, until one
    /// finishes. The default value is 0: no legacy store.
    /// </summary>
    public int LegacyEvents { get; init; }

    /// <summary>With <see cref="LegacyEvents"/>: the events moved per migration transaction. The default value is 100.</summary>
    public int MigrationChunk { get; init; } = 100;

    /// <summary>The children's <c>FlushCommitsToDisk</c>. The default value is false.</summary>
    public bool FlushCommitsToDisk { get; init; }
}
