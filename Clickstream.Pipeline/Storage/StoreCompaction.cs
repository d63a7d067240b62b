using System.Diagnostics;
using Clickstream.Pipeline.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Gives back the space of a file left mostly empty, on the writer thread: when it is worth it
/// (<see cref="StorePolicy.ShouldCompact"/>, looked at only after deletions), the file is rewritten with what it
/// holds and swapped in (<see cref="Compact"/>).
/// </summary>
internal sealed class StoreCompaction(StoreContext context, StoreLedger ledger, StoreWriter writer)
{
    // Documents copied per transaction while compacting: bounds the memory LiteDB holds for one transaction.
    private const int CopyChunk = 4096;

    private long _lastCompactedLength;

    /// <summary>Rewrites the file when it is mostly free space, rarely: only after deletions, and see <see cref="StorePolicy.ShouldCompact"/>.</summary>
    public void CompactIfMostlyFree()
    {
        if (!ledger.DeletedSinceCompactionCheck || writer.IsStopping || !context.File.IsOpen)
        {
            return;
        }

        ledger.DeletedSinceCompactionCheck = false;
        var before = context.File.DataLength;
        if (!context.Policy.ShouldCompact(before, ledger.StoredBytes, _lastCompactedLength))
        {
            return;
        }

        var counters = context.Counters;
        var started = Stopwatch.GetTimestamp();
        try
        {
            Compact(context.File);
        }
        catch (Exception ex)
        {
            // Not tried again before the file has doubled.
            _lastCompactedLength = before;
            Log.StoreCompactionFailed(context.Logger, ex);
            Interlocked.Increment(ref counters.StoreErrors);
            counters.NotifyChanged();
            return;
        }

        _lastCompactedLength = context.File.DataLength;
        Interlocked.Increment(ref counters.StoreCompactions);
        context.Hooks?.Compacted?.Invoke();
        Log.StoreCompacted(context.Logger, before, _lastCompactedLength, ledger.StoredEvents, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        counters.NotifyChanged();
    }

    /// <summary>
    /// Rewrites the file with only what it holds and swaps it in. LiteDB 5.0.21's <c>Rebuild</c> does nothing on
    /// a database opened over streams, and by name it renames the old file away before the new one is in
    /// place, so a crash between the two leaves no store; here the new file is complete and flushed to the
    /// device before one atomic rename replaces the old. Throws when it fails: the old file is then kept as it
    /// was, and it is open again unless reopening failed too (the next operation retries).
    /// </summary>
    private static void Compact(StoreDatabase file)
    {
        file.DeleteLeftovers();
        var target = file.Files.Open(file.CompactPath);
        try
        {
            // The copy's log is in memory: a crash before the swap just leaves a leftover file to delete.
            using (var copyLog = new MemoryStream())
            using (var copy = new LiteDatabase(target, mapper: null, logStream: copyLog))
            {
                foreach (var name in file.Database.GetCollectionNames())
                {
                    CopyCollection(file.Database.GetCollection(name), copy, name);
                }

                copy.UserVersion = file.Database.UserVersion;
                StoreDatabase.DisableAutomaticCheckpoint(copy);
                copy.Checkpoint();
            }

            StoreFileSystem.FlushToDisk(target);
        }
        catch
        {
            target.Dispose();
            File.Delete(file.CompactPath);
            throw;
        }

        target.Dispose();
        try
        {
            // The clean close checkpoints the log into the old data file and empties it: the empty log then
            // belongs to the new file as well as to the old, whichever a crash leaves in place.
            file.Close();
            if (File.Exists(file.LogPath) && new FileInfo(file.LogPath).Length != 0)
            {
                throw new IOException("The store's log was not empty after closing it; the compacted copy is dropped.");
            }

            File.Move(file.CompactPath, file.Path, overwrite: true);

            // Before the next commit: its log pages belong to the new file, and a power cut that undid the
            // rename would replay them over the old one.
            StoreFileSystem.SyncFolderOf(file.Path);
        }
        catch
        {
            File.Delete(file.CompactPath);
            file.Open();
            throw;
        }

        file.Open();
    }

    private static void CopyCollection(ILiteCollection<BsonDocument> source, LiteDatabase copy, string name)
    {
        var target = copy.GetCollection(name);
        var inTransaction = 0;
        copy.BeginTrans();
        foreach (var doc in source.FindAll())
        {
            target.Insert(doc);
            if (++inTransaction == CopyChunk)
            {
                copy.Commit();
                copy.BeginTrans();
                inTransaction = 0;
            }
        }

        copy.Commit();
    }
}
