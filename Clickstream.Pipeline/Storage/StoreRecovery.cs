using Clickstream.Pipeline.Diagnostics;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Opens the store at start, before the writer thread runs: the folder, the lock (<see cref="StoreLock"/>), what
/// interrupted compactions and salvages left, the owner-only mode, salvages a crash interrupted, the migration of
/// an earlier layout (<see cref="StoreMigration"/>), and the count of what an earlier run left (<see cref="Recover"/>).
/// A file LiteDB cannot read is moved aside, with its log, and a new one started with what could be read from it.
/// </summary>
internal sealed class StoreRecovery(StoreContext context, StoreLedger ledger)
{
    /// <summary>The lock on the store's files, once taken: held until the store is disposed, released by the caller when the open fails.</summary>
    public StoreLock? Lock { get; private set; }

    /// <summary>QoS1 events found at open, left by an earlier run.</summary>
    public long RecoveredCount { get; private set; }

    /// <summary>The largest event id in the file at open (0 when empty): new ids continue after it.</summary>
    public long LastId { get; private set; }

    /// <summary>
    /// Moves the (closed) damaged file aside and opens a new one in its place with what could be read from it
    /// (<see cref="StoreDatabase.ReplaceDamaged"/>), counted as moved aside; null, with the files closed and the
    /// <paramref name="failure"/>, when the files could not be moved, created or written.
    /// </summary>
    public static SalvageResult? TryReplaceDamaged(StoreContext context, out string movedTo, out Exception? failure)
    {
        failure = null;
        SalvageResult salvage;
        try
        {
            salvage = context.File.ReplaceDamaged(context.TimeProvider.GetUtcNow(), out movedTo);
        }
        catch (Exception ex)
        {
            context.File.CloseAfterFailure();
            movedTo = string.Empty;
            failure = ex;
            return null;
        }

        Interlocked.Increment(ref context.Counters.StoreFilesMovedAside);
        return salvage;
    }

    /// <summary>Counts and logs what a salvage carried over from a file moved aside, and what it could not read.</summary>
    public static void CountSalvage(StoreContext context, string movedTo, SalvageResult salvage)
    {
        Interlocked.Add(ref context.Counters.EventsSalvaged, salvage.Salvaged);
        Interlocked.Add(ref context.Counters.EventsUnreadable, salvage.Unreadable);
        Log.StoreSalvaged(context.Logger, movedTo, salvage.Salvaged, salvage.Unreadable);
    }

    /// <summary>
    /// Opens (or creates) the file and forgets the request records of an earlier run: their events are pending
    /// again. A file LiteDB cannot read is moved aside (with its log) and a new one started.
    /// </summary>
    /// <exception cref="ClickstreamStorageException">The file cannot be opened or created (permissions, IO error, a full disk).</exception>
    public void Open()
    {
        var directory = Path.GetDirectoryName(context.File.Path);
        try
        {
            if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(ex);
        }

        // Before anything touches the files (leftovers, recovery, migration, moving aside): they may be another
        // pipeline's. Held until Dispose, across the reopens after IO errors and the compactions' renames.
        Lock = StoreLock.Acquire(context.File.Path);
        try
        {
            context.File.DeleteLeftovers();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(ex);
        }

        RestrictToOwner(context.File.Path);
        RestrictToOwner(context.File.LogPath);
        try
        {
            context.File.Open();
            SalvageInterrupted();
            Recover();
            return;
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            context.File.CloseAfterFailure();
            if (TryReplaceDamaged(context, out var movedTo, out var moveFailure) is not { } salvage)
            {
                throw Unavailable(moveFailure!);
            }

            Log.StoreMovedAside(context.Logger, context.File.Path, ex.Message, movedTo, ex);
            CountSalvage(context, movedTo, salvage);
        }
        catch (Exception ex)
        {
            context.File.CloseAfterFailure();
            throw Unavailable(ex);
        }

        try
        {
            // The new store, opened by ReplaceDamaged, with what could be carried over.
            Recover();
        }
        catch (Exception ex)
        {
            context.File.CloseAfterFailure();
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// A file LiteDB cannot make sense of, as opposed to one the OS will not let us read or write (permissions,
    /// a full disk, a lock held by another process): only the former is moved aside.
    /// </summary>
    private static bool IsUnreadable(Exception ex) =>
        ex is EndOfStreamException || ex is not (IOException or UnauthorizedAccessException);

    private ClickstreamStorageException Unavailable(Exception ex) =>
        new($"The store {context.File.Path} ({nameof(ClickstreamOptions)}.{nameof(ClickstreamOptions.StoragePath)}) could not be opened: {ex.Message}", ex);

    /// <summary>
    /// Salvages again the files moved aside whose salvage a crash or a power cut interrupted: their events are in
    /// neither the new store nor anywhere else a pipeline reads.
    /// </summary>
    private void SalvageInterrupted()
    {
        foreach (var unsalvaged in context.File.InterruptedSalvages())
        {
            var salvage = context.File.Salvage(unsalvaged, out var movedTo);
            CountSalvage(context, movedTo, salvage);
        }
    }

    private void RestrictToOwner(string path)
    {
        // Files of earlier versions were created with the default mode; the store's own are owner-only from birth.
        try
        {
            context.File.Files.RestrictToOwner(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.StoreModeNotSet(context.Logger, path, ex);
        }
    }

    /// <summary>
    /// Counts what an earlier run left: the events pending in the file, their bytes and the last id, all from the
    /// segments' small heads; every one is on disk only, read back in id order once the writer runs.
    /// </summary>
    private void Recover()
    {
        StoreMigration.MigrateLegacyLayout(context);
        context.File.Requests.DeleteAll();
        RecoveredCount = 0;
        LastId = 0;
        ledger.SpilledFrom = -1;
        ledger.SpilledSegment = -1;
        ledger.StoredBytes = 0;

        // Only the small heads are read: how many events are pending, their bytes, where they start and end.
        foreach (var head in context.File.Segments.FindAll())
        {
            var pending = head[SegmentLayout.Count].AsInt32 - SegmentLayout.DoneCount(head);
            if (pending <= 0)
            {
                continue;
            }

            RecoveredCount += pending;
            ledger.StoredBytes += head[SegmentLayout.CountedBytes].AsInt64;
            LastId = Math.Max(LastId, head[SegmentLayout.LastId].AsInt64);
            if (ledger.SpilledSegment < 0)
            {
                ledger.SpilledSegment = head["_id"].AsInt64;
                ledger.SpilledFrom = ledger.SpilledSegment;
            }
        }

        ledger.StoredEvents = RecoveredCount;
        context.Counters.Recovered = RecoveredCount;
        context.Counters.PendingOnDisk = RecoveredCount;
    }
}
