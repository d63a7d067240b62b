using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Carries what can still be read from a damaged store file (moved aside) into the new store that replaces it:
/// every segment whose payload decodes, with its head (rebuilt from the payload when the head is gone), the
/// dead letters, and the events of the layout before segments. The damaged files are read from copies, so that
/// they stay as they were for whoever wants to look at them.
/// </summary>
/// <remarks>
/// LiteDB reads a damaged file by its <c>_id</c> index, which a damaged page can cut: each collection is read in
/// ascending order up to the first error, then in descending order down to the first error, which gets what lies
/// on both sides of one broken page. The file is read with its log first (what was committed last); when that
/// fails anywhere it is read again without its log (the data file as of its last checkpoint) for what is still
/// missing. A segment from the older read may bring back events acknowledged since: duplicates, which
/// at-least-once allows, rather than losses.
/// </remarks>
internal static class StoreSalvage
{
    // Documents per transaction of the copy: bounds the memory LiteDB holds for one transaction.
    private const int CopyChunk = 1024;

    /// <summary>
    /// Whether <paramref name="ex"/>, thrown by a LiteDB operation, says the file is damaged (one of LiteDB's
    /// internal assertions, such as "page must be writable", or a page of the wrong kind), rather than a failure of
    /// the device or of the call.
    /// </summary>
    public static bool IsDamage(Exception ex) =>
        ex is LiteException { ErrorCode: LiteException.INVALID_DATAFILE_STATE or LiteException.INVALID_FREE_SPACE_PAGE or LiteException.INVALID_DATABASE };

    /// <summary>
    /// Copies what can be read from the damaged <paramref name="dataPath"/> (and its <paramref name="logPath"/>) into
    /// <paramref name="target"/>, open, in transactions of its own. Never throws for what it cannot read: that is
    /// counted as unreadable; throws when writing into <paramref name="target"/> fails (a full disk).
    /// </summary>
    public static SalvageResult CopyInto(StoreDatabase target, string dataPath, string logPath)
    {
        var found = new Found();
        var copyPath = target.Path + ".salvage";
        var copyLogPath = StoreDatabase.LogPathOf(copyPath);
        try
        {
            File.Copy(dataPath, copyPath, overwrite: true);
            if (File.Exists(logPath))
            {
                File.Copy(logPath, copyLogPath, overwrite: true);
            }

            if (!Read(copyPath, copyLogPath, found))
            {
                // Without the log: the data file as of its last checkpoint, for what the first read could not reach.
                File.Delete(copyLogPath);
                File.Copy(dataPath, copyPath, overwrite: true);
                Read(copyPath, copyLogPath, found);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The copies could not be made (a full disk): nothing can be read; the damaged files stay aside.
        }
        finally
        {
            DeleteCopies(target.Path);
        }

        return Write(target, found);
    }

    /// <summary>Removes the copies a salvage interrupted by a crash left behind.</summary>
    public static void DeleteCopies(string storePath)
    {
        var copyPath = storePath + ".salvage";
        File.Delete(copyPath);
        File.Delete(StoreDatabase.LogPathOf(copyPath));
    }

    /// <summary>Reads every collection it can into <paramref name="found"/>; false when anything failed.</summary>
    private static bool Read(string dataPath, string logPath, Found found)
    {
        var newer = false;
        if (!WithDatabase(dataPath, logPath, db => newer = db.UserVersion > SegmentLayout.FormatVersion) || newer)
        {
            // Not opened at all, or a later version's layout, which is not ours to interpret.
            found.NewerFormat |= newer;
            return newer;
        }

        var complete = true;
        complete &= ReadCollection(dataPath, logPath, StoreDatabase.SegmentsCollection, found.Heads);
        complete &= ReadCollection(dataPath, logPath, StoreDatabase.PayloadsCollection, found.Payloads);
        complete &= ReadCollection(dataPath, logPath, StoreDatabase.DeadLettersCollection, found.DeadLetters);
        complete &= ReadCollection(dataPath, logPath, StoreDatabase.LegacyEventsCollection, found.LegacyEvents);
        return complete;
    }

    /// <summary>
    /// Reads a collection in ascending order, and when that stops at a damaged page, in descending order down to
    /// it. Each pass opens the database anew: LiteDB closes its engine after an internal assertion.
    /// </summary>
    private static bool ReadCollection(string dataPath, string logPath, string name, Dictionary<BsonValue, BsonDocument> into)
    {
        if (WithDatabase(dataPath, logPath, db =>
        {
            foreach (var doc in db.GetCollection(name).Find(Query.All("_id", Query.Ascending)))
            {
                into.TryAdd(doc["_id"], doc);
            }
        }))
        {
            return true;
        }

        WithDatabase(dataPath, logPath, db =>
        {
            foreach (var doc in db.GetCollection(name).Find(Query.All("_id", Query.Descending)))
            {
                if (!into.TryAdd(doc["_id"], doc))
                {
                    break;
                }
            }
        });
        return false;
    }

    /// <summary>Opens the copies, runs <paramref name="read"/>, closes; false when anything threw.</summary>
    private static bool WithDatabase(string dataPath, string logPath, Action<LiteDatabase> read)
    {
        try
        {
            using var data = new FileStream(dataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            using var log = new FileStream(logPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            var db = new LiteDatabase(data, mapper: null, logStream: log);
            try
            {
                read(db);
                return true;
            }
            catch (Exception)
            {
                return false;
            }
            finally
            {
                try
                {
                    db.Dispose();
                }
                catch (Exception)
                {
                    // Its closing checkpoint writes into the copy, which is deleted anyway.
                    LiteDbFinalizers.Suppress(db);
                }
            }
        }
        catch (Exception)
        {
            // LiteDB could not open it.
            return false;
        }
    }

    private static SalvageResult Write(StoreDatabase target, Found found)
    {
        if (found.NewerFormat)
        {
            return new SalvageResult(0, 0, []);
        }

        long salvaged = 0;
        long unreadable = 0;
        var lost = new List<LostSegment>();
        var entries = new List<SegmentEntry>();
        var chunk = new Chunk(target.Database);
        foreach (var (id, payload) in found.Payloads)
        {
            found.Heads.TryGetValue(id, out var head);
            try
            {
                SegmentLayout.Decode(payload, entries);
            }
            catch (Exception)
            {
                // A payload that does not decode: its events, as its head counts them, are lost.
                entries.Clear();
            }

            if (entries.Count == 0 || entries[0].Id != id.AsInt64)
            {
                if (head is not null)
                {
                    unreadable += Lose(head, lost);
                }

                continue;
            }

            head ??= HeadOf(id.AsInt64, entries);
            var pending = Pending(head);
            if (pending <= 0)
            {
                continue;
            }

            chunk.Insert(target.Payloads, payload);
            chunk.Insert(target.Segments, head);
            salvaged += pending;
        }

        foreach (var (id, head) in found.Heads)
        {
            if (!found.Payloads.ContainsKey(id))
            {
                unreadable += Lose(head, lost);
            }
        }

        foreach (var letter in found.DeadLetters.Values)
        {
            chunk.Insert(target.DeadLetters, letter);
        }

        var legacy = target.Database.GetCollection(StoreDatabase.LegacyEventsCollection);
        foreach (var e in found.LegacyEvents.Values)
        {
            if (e["b"].IsBinary && e["y"].IsString && e["g"].IsGuid && e["t"].IsInt64 && e["_id"].IsInt64)
            {
                chunk.Insert(legacy, e);
                salvaged++;
            }
            else
            {
                unreadable++;
            }
        }

        chunk.Commit();

        // Segments only: the file is of the current layout (a salvaged legacy collection is migrated at open).
        if (found.LegacyEvents.Count == 0)
        {
            target.Database.UserVersion = SegmentLayout.FormatVersion;
        }

        return new SalvageResult(salvaged, unreadable, lost);
    }

    private static int Lose(BsonDocument head, List<LostSegment> lost)
    {
        var pending = Pending(head);
        if (pending <= 0 || !head["_id"].IsInt64)
        {
            return 0;
        }

        lost.Add(new LostSegment(head["_id"].AsInt64, head[SegmentLayout.LastId].AsInt64, pending, head[SegmentLayout.CountedBytes].AsInt64));
        return pending;
    }

    private static int Pending(BsonDocument head) => head[SegmentLayout.Count].AsInt32 - SegmentLayout.DoneCount(head);

    private static BsonDocument HeadOf(long firstId, List<SegmentEntry> entries)
    {
        long bytes = 0;
        foreach (var entry in entries)
        {
            bytes += entry.Size;
        }

        return SegmentLayout.Head(firstId, entries.Count, entries[^1].Id, bytes, done: null);
    }

    /// <summary>What the reads found, by collection and <c>_id</c>; the first read of an id wins.</summary>
    private sealed class Found
    {
        public Dictionary<BsonValue, BsonDocument> Heads { get; } = [];

        public Dictionary<BsonValue, BsonDocument> Payloads { get; } = [];

        public Dictionary<BsonValue, BsonDocument> DeadLetters { get; } = [];

        public Dictionary<BsonValue, BsonDocument> LegacyEvents { get; } = [];

        public bool NewerFormat { get; set; }
    }

    /// <summary>Inserts in transactions of <see cref="CopyChunk"/> documents.</summary>
    private sealed class Chunk(LiteDatabase db)
    {
        private int _count;

        public void Insert(ILiteCollection<BsonDocument> collection, BsonDocument doc)
        {
            if (_count == 0)
            {
                db.BeginTrans();
            }

            collection.Upsert(doc);
            if (++_count == CopyChunk)
            {
                Commit();
            }
        }

        public void Commit()
        {
            if (_count > 0)
            {
                db.Commit();
                _count = 0;
            }
        }
    }
}

/// <summary>What a salvage carried over.</summary>
/// <param name="Salvaged">QoS1 events (not yet done) read from the damaged file and written into the new one.</param>
/// <param name="Unreadable">QoS1 events the damaged file's segment heads count whose events could not be read.</param>
/// <param name="Lost">The segments of the <paramref name="Unreadable"/> events.</param>
internal sealed record SalvageResult(long Salvaged, long Unreadable, IReadOnlyList<LostSegment> Lost);

/// <summary>A segment whose head was read from a damaged file and whose events were not.</summary>
/// <param name="FirstId">Its key, the id of its first event.</param>
/// <param name="LastId">The id of its last event.</param>
/// <param name="Pending">Its events not done yet: lost, unless they are held in memory.</param>
/// <param name="Bytes">The bytes counted for them.</param>
internal readonly record struct LostSegment(long FirstId, long LastId, int Pending, long Bytes);
