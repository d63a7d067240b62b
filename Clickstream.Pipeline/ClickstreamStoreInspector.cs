using Clickstream.Pipeline.Storage;

namespace Clickstream.Pipeline;

/// <summary>
/// Reads what a pipeline's store file (<see cref="ClickstreamOptions.StoragePath"/>) holds without changing it, even
/// while a pipeline holds it: e.g. to see what a device still has to send, and since when.
/// </summary>
/// <remarks>
/// The data file and its log are copied (shared read, as a running pipeline allows) into a private temporary folder
/// and the copy is read, so the figures are a snapshot of what was committed when it was taken (the last commit of a
/// running pipeline possibly not yet in it). Reading takes as long as copying the file.
/// </remarks>
public static class ClickstreamStoreInspector
{
    /// <summary>The newest dead letters <see cref="Inspect"/> lists unless told otherwise.</summary>
    public const int DefaultDeadLetters = StoreInspector.DefaultDeadLetters;

    /// <summary>Reads the store file at <paramref name="path"/>.</summary>
    /// <param name="path">The store file.</param>
    /// <param name="newestDeadLetters">How many of the newest dead letters to list; 0 for none.</param>
    /// <returns>What the file holds.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newestDeadLetters"/> is negative.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a LiteDB file, is damaged, or is another application's LiteDB file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    public static ClickstreamStoreSnapshot Inspect(string path, int newestDeadLetters = DefaultDeadLetters)
    {
        var snapshot = StoreInspector.Inspect(path, newestDeadLetters);
        return new ClickstreamStoreSnapshot
        {
            Path = snapshot.Path,
            FileBytes = snapshot.FileBytes,
            LogBytes = snapshot.LogBytes,
            EventsPending = snapshot.EventsPending,
            RequestsInFlight = snapshot.Requests,
            EventsInFlight = snapshot.EventsInFlight,
            DeadLetters = snapshot.DeadLetters,
            OldestEvent = snapshot.OldestEvent,
            NewestDeadLetters = snapshot.NewestDeadLetters,
        };
    }
}

/// <summary>What a store file held when <see cref="ClickstreamStoreInspector.Inspect"/> read it.</summary>
public sealed class ClickstreamStoreSnapshot
{
    /// <summary>The data file, as given.</summary>
    public required string Path { get; init; }

    /// <summary>The data file's length in bytes.</summary>
    public required long FileBytes { get; init; }

    /// <summary>The length of LiteDB's write-ahead log beside it, 0 when there is none.</summary>
    public required long LogBytes { get; init; }

    /// <summary>QoS1 events not yet acknowledged, in flight or not.</summary>
    public required long EventsPending { get; init; }

    /// <summary>Requests sent (or about to be) and not acknowledged.</summary>
    public required long RequestsInFlight { get; init; }

    /// <summary>The events those requests carry.</summary>
    public required long EventsInFlight { get; init; }

    /// <summary>Events dead-lettered (see <see cref="ClickstreamDeadLetter"/>).</summary>
    public required long DeadLetters { get; init; }

    /// <summary>When the oldest pending event was tracked, or null when none is pending.</summary>
    public required DateTimeOffset? OldestEvent { get; init; }

    /// <summary>The newest dead letters, newest first, at most the number asked for.</summary>
    public required IReadOnlyList<ClickstreamDeadLetter> NewestDeadLetters { get; init; }
}
