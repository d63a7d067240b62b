using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>What a store file holds (see <see cref="StoreInspector"/>).</summary>
/// <param name="Path">The data file.</param>
/// <param name="FileBytes">The data file's length.</param>
/// <param name="LogBytes">The length of LiteDB's write-ahead log beside it (0 when there is none).</param>
/// <param name="EventsPending">Events not yet acknowledged, in flight or not.</param>
/// <param name="Requests">Request records: requests sent (or about to be) and not acknowledged when the file was read.</param>
/// <param name="EventsInFlight">The events those requests name.</param>
/// <param name="DeadLetters">Events dead-lettered after a permanent rejection.</param>
/// <param name="OldestEvent">The timestamp of the oldest pending event, or null when none is pending.</param>
/// <param name="NewestDeadLetters">The newest dead letters, newest first (at most the number asked for).</param>
internal sealed record StoreSnapshot(
    string Path,
    long FileBytes,
    long LogBytes,
    long EventsPending,
    long Requests,
    long EventsInFlight,
    long DeadLetters,
    DateTimeOffset? OldestEvent,
    IReadOnlyList<ClickstreamDeadLetter> NewestDeadLetters);

/// <summary>
/// Reads a pipeline's store file without changing it: the data file and its log are copied (shared read, as a
/// running pipeline allows) into a private temp folder, and the copy is opened. LiteDB cannot open a file truly
/// read-only when its log holds pages not yet checkpointed (it would write them into the data file), and a file
/// held by a running pipeline must not be touched at all; the copy is then a snapshot of what was committed
/// when it was taken, the last commit possibly not yet in it. Built on <see cref="StoreDatabase"/>'s names, so
/// that it follows the store's layout.
/// </summary>
internal static class StoreInspector
{
    /// <summary>The newest dead letters listed by default.</summary>
    public const int DefaultDeadLetters = 10;

    /// <summary>Reads <paramref name="path"/>, with its newest <paramref name="deadLetters"/> dead letters.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a LiteDB file, is damaged, or is another application's LiteDB file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    public static StoreSnapshot Inspect(string path, int deadLetters = DefaultDeadLetters)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(deadLetters);
        var data = new FileInfo(path);
        if (!data.Exists)
        {
            throw new FileNotFoundException($"There is no store file at {path}.", path);
        }

        if (data.Length == 0)
        {
            throw new InvalidDataException($"{path} is empty: not a pipeline store.");
        }

        var log = new FileInfo(StoreDatabase.LogPathOf(path));
        var folder = Directory.CreateTempSubdirectory("clickstream-inspect-");
        try
        {
            var copy = System.IO.Path.Combine(folder.FullName, "events.db");
            CopyShared(data.FullName, copy);
            if (log.Exists)
            {
                CopyShared(log.FullName, StoreDatabase.LogPathOf(copy));
            }

            try
            {
                return Read(copy, path, data.Length, log.Exists ? log.Length : 0, deadLetters);
            }
            catch (Exception ex) when (ex is not (IOException or UnauthorizedAccessException or InvalidDataException) || ex is EndOfStreamException)
            {
                throw new InvalidDataException($"{path} is not a readable pipeline store: {ex.Message}", ex);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static StoreSnapshot Read(string copy, string path, long fileBytes, long logBytes, int deadLetters)
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = copy, Connection = ConnectionType.Direct });
        var names = new HashSet<string>(db.GetCollectionNames(), StringComparer.Ordinal);
        if (names.Count > 0 && !names.Contains(StoreDatabase.SegmentsCollection) && !names.Contains(StoreDatabase.LegacyEventsCollection)
            && !names.Contains(StoreDatabase.RequestsCollection) && !names.Contains(StoreDatabase.DeadLettersCollection))
        {
            throw new InvalidDataException($"{path} is a LiteDB file without a pipeline store's collections ({string.Join(", ", names)}).");
        }

        var (pending, oldest) = names.Contains(StoreDatabase.LegacyEventsCollection) ? ReadLegacyEvents(db) : ReadSegments(db);
        long requests = 0;
        long inFlight = 0;
        foreach (var record in db.GetCollection(StoreDatabase.RequestsCollection).FindAll())
        {
            requests++;
            inFlight += record[StoreDatabase.RequestEventsField].AsArray.Count;
        }

        var letters = db.GetCollection(StoreDatabase.DeadLettersCollection);
        var newest = deadLetters == 0 ? [] : DeadLetterStore.ToDeadLetters(letters.Find(Query.All(StoreDatabase.IdField, Query.Descending), limit: deadLetters).ToList());
        return new StoreSnapshot(path, fileBytes, logBytes, pending, requests, inFlight, letters.LongCount(), oldest, newest);
    }

    /// <summary>The segment layout (<see cref="SegmentLayout"/>): pending counted from the heads, the oldest from the first pending event.</summary>
    private static (long Pending, DateTimeOffset? Oldest) ReadSegments(LiteDatabase db)
    {
        long pending = 0;
        var heads = db.GetCollection(StoreDatabase.SegmentsCollection);
        foreach (var head in heads.FindAll())
        {
            pending += head[SegmentLayout.Count].AsInt32 - SegmentLayout.DoneCount(head);
        }

        var entries = new List<SegmentEntry>();
        foreach (var payload in db.GetCollection(StoreDatabase.PayloadsCollection).Find(Query.All(StoreDatabase.IdField, Query.Ascending)))
        {
            var done = heads.FindById(payload[StoreDatabase.IdField])?[SegmentLayout.Done];
            SegmentLayout.Decode(payload, entries);
            for (var i = 0; i < entries.Count; i++)
            {
                if (!SegmentLayout.IsDone(done is { IsBinary: true } ? done.AsBinary : null, i))
                {
                    return (pending, new DateTimeOffset(entries[i].TimestampTicks, TimeSpan.Zero));
                }
            }
        }

        return (pending, null);
    }

    /// <summary>A file of the layout before segments, not opened by a pipeline since (it migrates at open).</summary>
    private static (long Pending, DateTimeOffset? Oldest) ReadLegacyEvents(LiteDatabase db)
    {
        var events = db.GetCollection(StoreDatabase.LegacyEventsCollection);
        DateTimeOffset? oldest = null;
        foreach (var doc in events.Find(Query.All(StoreDatabase.IdField, Query.Ascending), limit: 1))
        {
            oldest = new DateTimeOffset(doc[StoreDatabase.TimestampField].AsInt64, TimeSpan.Zero);
        }

        return (events.LongCount(), oldest);
    }

    private static void CopyShared(string source, string destination)
    {
        using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var to = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
        from.CopyTo(to);
    }
}
