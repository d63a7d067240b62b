using System.Diagnostics;
using System.Globalization;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The store's LiteDB file and the two streams under it (data and write-ahead log), which the store opens
/// itself through <see cref="StoreFileSystem"/>. It can be closed after a failure and opened again, moved aside
/// when it cannot be read, and closed and opened again around its swap when it is rewritten smaller
/// (<see cref="StoreCompaction"/>). Used by one thread at a time: the opener, then the store's writer.
/// </summary>
internal sealed class StoreDatabase
{
    /// <summary>Heads of the segments (<see cref="SegmentLayout"/>).</summary>
    public const string SegmentsCollection = "segments";

    /// <summary>Packed events of the segments.</summary>
    public const string PayloadsCollection = "payloads";

    /// <summary>One document per event: the layout before <see cref="SegmentLayout.FormatVersion"/> 2, migrated at open.</summary>
    public const string LegacyEventsCollection = "events";
    public const string RequestsCollection = "requests";
    public const string DeadLettersCollection = "deadletters";

    /// <summary>Every document's key: an event's monotonic id, a request's req_guid.</summary>
    public const string IdField = "_id";

    /// <summary>An event's (and a dead letter's) timestamp, UTC ticks.</summary>
    public const string TimestampField = "t";

    /// <summary>A request record's event ids.</summary>
    public const string RequestEventsField = "e";

    private readonly StoreFileSystem _files;

    // Held while the database is opened or closed, and by readers on other threads (the dead letters), so that
    // they never read a database being closed after a failure or swapped by a compaction.
    private readonly Lock _lifecycle = new();
    private Stream? _data;
    private Stream? _log;
    private LiteDatabase? _db;

    /// <summary>How the files are opened and their mode set (the test seam).</summary>
    public StoreFileSystem Files => _files;

    public StoreDatabase(string path, StoreFileSystem files)
    {
        _files = files;
        Path = path;
        LogPath = LogPathOf(path);
        CompactPath = path + ".compact";
    }

    /// <summary>The data file.</summary>
    public string Path { get; }

    /// <summary>LiteDB's write-ahead log beside it, named as LiteDB names it (<c>events-log.db</c>), so that either can open the other's files.</summary>
    public string LogPath { get; }

    /// <summary>Where a compaction writes the new file before it replaces the old one.</summary>
    public string CompactPath { get; }

    public bool IsOpen => _db is not null;

    public LiteDatabase Database => _db ?? throw new InvalidOperationException("The store is closed.");

    public ILiteCollection<BsonDocument> Segments { get; private set; } = null!;

    public ILiteCollection<BsonDocument> Payloads { get; private set; } = null!;

    public ILiteCollection<BsonDocument> Requests { get; private set; } = null!;

    public ILiteCollection<BsonDocument> DeadLetters { get; private set; } = null!;

    /// <summary>The data file's length: what LiteDB has checkpointed into it, free pages included.</summary>
    public long DataLength => _data?.Length ?? 0;

    public static string LogPathOf(string path) =>
        System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(path) ?? string.Empty,
            System.IO.Path.GetFileNameWithoutExtension(path) + "-log" + System.IO.Path.GetExtension(path));

    /// <summary>Opens (or creates) the files.</summary>
    public void Open()
    {
        Debug.Assert(_db is null, "The store is open already.");
        lock (_lifecycle)
        {
            try
            {
                _data = _files.Open(Path);
                _log = _files.Open(LogPath);
                _db = new LiteDatabase(_data, mapper: null, logStream: _log);
                DisableAutomaticCheckpoint(_db);
                Segments = _db.GetCollection(SegmentsCollection, BsonAutoId.Int64);
                Payloads = _db.GetCollection(PayloadsCollection, BsonAutoId.Int64);
                Requests = _db.GetCollection(RequestsCollection, BsonAutoId.Guid);
                DeadLetters = _db.GetCollection(DeadLettersCollection, BsonAutoId.Int64);
            }
            catch
            {
                try
                {
                    CloseUnlocked();
                }
                catch (Exception)
                {
                    // Reported by the exception that made the open fail.
                }

                throw;
            }
        }
    }

    /// <summary>Closes cleanly: LiteDB copies its log into the data file first. Throws when that fails; the files are closed anyway.</summary>
    public void Close()
    {
        lock (_lifecycle)
        {
            CloseUnlocked();
        }
    }

    /// <summary>
    /// The newest documents of <paramref name="collection"/>, at most <paramref name="max"/>, read on the caller's
    /// thread (LiteDB reads are safe beside the writer's transactions); none while the store is closed after a failure.
    /// </summary>
    public List<BsonDocument> ReadNewest(string collection, int max)
    {
        var result = new List<BsonDocument>();
        lock (_lifecycle)
        {
            if (_db is null)
            {
                return result;
            }

            foreach (var doc in _db.GetCollection(collection).Find(Query.All("_id", Query.Descending), limit: max))
            {
                result.Add(doc);
            }
        }

        return result;
    }

    /// <summary>
    /// The documents of <paramref name="collection"/> that <paramref name="query"/> selects, at most <paramref name="max"/>,
    /// read on the caller's thread like <see cref="ReadNewest"/>; none while the store is closed after a failure.
    /// </summary>
    public List<BsonDocument> Read(string collection, BsonExpression query, int max)
    {
        var result = new List<BsonDocument>();
        lock (_lifecycle)
        {
            if (_db is null)
            {
                return result;
            }

            foreach (var doc in _db.GetCollection(collection).Find(query, limit: max))
            {
                result.Add(doc);
            }
        }

        return result;
    }

    /// <summary>
    /// Whether the last failure (<see cref="CloseAfterFailure"/>) said the file is damaged: opening it again would
    /// fail the same way, so it is to be replaced (<see cref="ReplaceDamaged"/>).
    /// </summary>
    public bool IsDamaged { get; private set; }

    /// <summary>
    /// Closes after a failed operation. LiteDB's engine is unusable once a write failed (even its rollback
    /// throws), so it is dropped; what was committed before is intact in the files, and what failed is not
    /// there (its log pages have no commit mark). A <paramref name="cause"/> that says the file is damaged
    /// (<see cref="StoreSalvage.IsDamage"/>) sets <see cref="IsDamaged"/>.
    /// </summary>
    public void CloseAfterFailure(Exception? cause = null)
    {
        IsDamaged |= cause is not null && StoreSalvage.IsDamage(cause);
        if (_db is { } failed)
        {
            LiteDbFinalizers.Suppress(failed);
        }

        try
        {
            Close();
        }
        catch (Exception)
        {
            // Disposing runs a checkpoint, which fails the same way; the log keeps everything it would have copied.
        }
    }

    /// <summary>Writes the segment <paramref name="builder"/> holds (payload and head) in the open transaction; the builder is empty again.</summary>
    public void InsertSegment(SegmentBuilder builder)
    {
        var (payload, head) = builder.Build();
        Payloads.Insert(payload);
        Segments.Insert(head);
    }

    /// <summary>Flushes the write-ahead log to the device: the last commit now survives power loss.</summary>
    public void FlushLogToDisk() => StoreFileSystem.FlushToDisk(_log ?? throw new InvalidOperationException("The store is closed."));

    /// <summary>Removes what a compaction or a salvage interrupted by a crash left behind.</summary>
    public void DeleteLeftovers()
    {
        File.Delete(CompactPath);
        StoreSalvage.DeleteCopies(Path);
    }

    /// <summary>
    /// The end of a moved-aside file's name until what could be read from it is in the new store and synced: a power
    /// cut before that leaves the mark, and the next open salvages the file again (<see cref="InterruptedSalvages"/>).
    /// </summary>
    public const string UnsalvagedSuffix = ".unsalvaged";

    /// <summary>
    /// Replaces the (closed) damaged file: moves it aside with its log (<see cref="MoveAside"/>), opens a new store
    /// in its place and carries into it what can still be read from the old one (<see cref="Salvage"/>).
    /// Throws when the files cannot be moved, created or written; what cannot be read is counted, never thrown.
    /// </summary>
    public SalvageResult ReplaceDamaged(DateTimeOffset now, out string movedTo)
    {
        var moved = MoveAside(now);

        // The damaged file is gone from its place: a new one failing to open is an ordinary failure, retried.
        IsDamaged = false;
        Open();
        return Salvage(moved, out movedTo);
    }

    /// <summary>
    /// Carries what can be read from the moved-aside file <paramref name="unsalvaged"/> (and its log) into this open
    /// store, syncs it, and only then drops the file's <see cref="UnsalvagedSuffix"/>; returns the file's final
    /// path in <paramref name="movedTo"/>. Salvaging a file twice writes the same documents again.
    /// </summary>
    public SalvageResult Salvage(string unsalvaged, out string movedTo)
    {
        var log = LogPath + unsalvaged[Path.Length..];
        var result = StoreSalvage.CopyInto(this, unsalvaged, log);
        FlushLogToDisk();
        movedTo = unsalvaged[..^UnsalvagedSuffix.Length];
        File.Move(unsalvaged, movedTo);
        if (File.Exists(log))
        {
            File.Move(log, log[..^UnsalvagedSuffix.Length]);
        }

        StoreFileSystem.SyncFolderOf(Path);
        return result;
    }

    /// <summary>The files moved aside whose salvage a crash or a power cut interrupted, oldest first.</summary>
    public IReadOnlyList<string> InterruptedSalvages()
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        var files = Directory.GetFiles(folder, System.IO.Path.GetFileName(Path) + ".corrupt-*" + UnsalvagedSuffix);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>
    /// Renames the (closed) data file and its log aside, with a timestamp suffix and <see cref="UnsalvagedSuffix"/>,
    /// so that a new store can start where they were. Returns the data file's new path.
    /// </summary>
    public string MoveAside(DateTimeOffset now)
    {
        Debug.Assert(_db is null, "Close the store before moving it aside.");
        var stamp = ".corrupt-" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var suffix = stamp;
        for (var n = 1; Taken(Path + suffix) || Taken(LogPath + suffix); n++)
        {
            suffix = stamp + "-" + n.ToString(CultureInfo.InvariantCulture);
        }

        suffix += UnsalvagedSuffix;
        File.Move(Path, Path + suffix);
        if (File.Exists(LogPath))
        {
            File.Move(LogPath, LogPath + suffix);
        }

        // The renames reach the device before the new store's files are created under the old names.
        StoreFileSystem.SyncFolderOf(Path);
        return Path + suffix;

        static bool Taken(string path) => File.Exists(path) || File.Exists(path + UnsalvagedSuffix);
    }

    /// <summary>The log's size past which <see cref="CheckpointIfDue"/> checkpoints.</summary>
    public long CheckpointLogBytes { get; init; } = 1000L * 8192;

    /// <summary>
    /// Copies the write-ahead log into the data file once the log is past <see cref="CheckpointLogBytes"/>. Called
    /// after a commit returned, so that a checkpoint that fails (a full disk, an IO error) is never mistaken for a
    /// failed commit: the transaction is in the log, confirmed, whatever happens here.
    /// </summary>
    public void CheckpointIfDue()
    {
        if (_log is not null && _log.Length > CheckpointLogBytes)
        {
            Database.Checkpoint();
        }
    }

    /// <summary>
    /// LiteDB checkpoints inside <c>Commit</c> once its log passes the CHECKPOINT pragma (in pages), and a checkpoint
    /// that throws there makes a committed transaction look failed: the store runs it itself (<see cref="CheckpointIfDue"/>).
    /// Not 0, which would also stop LiteDB's checkpoint at a clean close: the largest count of 8 KB pages whose bytes
    /// still fit LiteDB's int arithmetic (2 GB), never reached first. Kept in the file's header: written once per file.
    /// </summary>
    public static void DisableAutomaticCheckpoint(LiteDatabase db)
    {
        const int NeverPages = int.MaxValue / 8192;
        if (db.CheckpointSize != NeverPages)
        {
            db.CheckpointSize = NeverPages;
        }
    }

    private void CloseUnlocked()
    {
        var db = _db;
        _db = null;
        try
        {
            db?.Dispose();
        }
        catch when (db is not null)
        {
            // A dispose that failed half way must not be finished by the finalizer thread (see LiteDbFinalizers).
            LiteDbFinalizers.Suppress(db);
            throw;
        }
        finally
        {
            _data?.Dispose();
            _log?.Dispose();
            _data = null;
            _log = null;
        }
    }
}
