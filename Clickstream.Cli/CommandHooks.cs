using Clickstream.Collector;

namespace Clickstream.Cli;

/// <summary>What a test running the command line in-proc can observe: the collector a <c>collector</c> command started.</summary>
internal sealed class CommandHooks
{
    /// <summary>Called once the <c>collector</c> command's collector listens (and its NDJSON file is open).</summary>
    public Action<RaccoonCollector>? CollectorStarted { get; init; }
}
