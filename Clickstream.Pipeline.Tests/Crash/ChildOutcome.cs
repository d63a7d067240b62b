namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>What one child process did, as its output and exit tell.</summary>
/// <param name="Numbers">The event numbers it reported, in the order written (each one a completed TrackAsync).</param>
/// <param name="NumbersBeforeKill">How many of <paramref name="Numbers"/> were read before the kill; the rest were in the pipe already.</param>
/// <param name="Killed">Whether the harness killed it (SIGKILL), rather than it exiting by itself.</param>
/// <param name="ExitCode">Its exit code (137 on Linux after SIGKILL).</param>
/// <param name="Flushed">The detail of its <see cref="ChildLines.Flushed"/> line (events left on disk), or null.</param>
/// <param name="PartialLineBytes">Bytes after the last newline: a line cut by the kill (never expected, never counted).</param>
/// <param name="StandardError">What it wrote to standard error, for failure messages.</param>
/// <param name="Evicted">The numbers of the events its store was about to evict (<see cref="ChildLines.Evicted"/>).</param>
/// <param name="Compactions">Its <see cref="ChildLines.Compacted"/> lines.</param>
/// <param name="FailedWrites">Its <see cref="ChildLines.WriteFailed"/> lines.</param>
/// <param name="Migrations">Its <see cref="ChildLines.Migrated"/> lines.</param>
/// <param name="Opened">Whether it wrote <see cref="ChildLines.Ready"/>: its store opened, any migration finished.</param>
internal sealed record ChildOutcome(
    IReadOnlyList<int> Numbers,
    int NumbersBeforeKill,
    bool Killed,
    int ExitCode,
    string? Flushed,
    int PartialLineBytes,
    string StandardError,
    IReadOnlyList<int> Evicted,
    int Compactions,
    int FailedWrites,
    int Migrations,
    bool Opened);
