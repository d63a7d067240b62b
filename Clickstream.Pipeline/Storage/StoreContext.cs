using Clickstream.Pipeline.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// What every part of the store works with: its file, its rules, its options, the counters and the log. Set once
/// at the open; each part keeps its own state.
/// </summary>
internal sealed class StoreContext
{
    public StoreContext(EventStoreOptions options, PipelineCounters counters, ILogger logger)
    {
        File = new StoreDatabase(options.Path, options.FileSystem) { CheckpointLogBytes = options.CheckpointLogBytes };
        Policy = new StorePolicy(options);
        Options = options;
        Counters = counters;
        Logger = logger;
    }

    /// <summary>The LiteDB file: written on the writer thread only (and by the open before it starts).</summary>
    public StoreDatabase File { get; }

    public StorePolicy Policy { get; }

    public EventStoreOptions Options { get; }

    public TimeProvider TimeProvider => Options.TimeProvider;

    /// <summary>The crash test's switches, or null.</summary>
    public StoreTestHooks? Hooks => Options.TestHooks;

    public PipelineCounters Counters { get; }

    public ILogger Logger { get; }
}
