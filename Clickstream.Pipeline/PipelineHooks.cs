using Clickstream.Pipeline.Storage;

namespace Clickstream.Pipeline;

/// <summary>
/// What tests and the crash test (the test project's <c>crash-child</c>) substitute inside a pipeline to inject faults or
/// to fix its randomness: not options, so nothing public reaches them. Given to the internal
/// <c>ClickstreamPipeline.Create</c> overload; <see cref="PipelineSettings"/> copies them with the options.
/// </summary>
internal sealed record PipelineHooks
{
    /// <summary>No substitutes: real files, no store switches, <see cref="System.Random.Shared"/>.</summary>
    public static PipelineHooks None { get; } = new();

    /// <summary>Opens the store's files; a test substitutes one that fails as a full disk does, or counts syncs. The default value is real files.</summary>
    public StoreFileSystem FileSystem { get; init; } = StoreFileSystem.Default;

    /// <summary>The crash test's switches of the store (lower thresholds, eviction and compaction callbacks). The default value is <see langword="null"/>: none.</summary>
    public StoreTestHooks? StoreTestHooks { get; init; }

    /// <summary>The randomness of the retry jitter and the probe schedule; tests set a seeded or fixed one. The default value is <see cref="System.Random.Shared"/>.</summary>
    public Random Random { get; init; } = Random.Shared;
}
