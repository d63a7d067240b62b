using Clickstream.Pipeline.Diagnostics;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Keeps the file usable for the writer thread. A failed operation closes it (<see cref="OnFailure"/>); the next
/// one opens it again, or, when the engine said the file is damaged, replaces it with what can still be read
/// (<see cref="EnsureOpen"/>). The checkpoint after a commit runs here too: its failure is such a failure, never
/// the commit's.
/// </summary>
internal sealed class StoreFileGuard(StoreContext context, LiveSegments live, StoreLedger ledger, StoreHandOver handOver)
{
    /// <summary>Opens the file again if a failure closed it; false (logged, counted) when it cannot be opened.</summary>
    public bool EnsureOpen(out Exception? error)
    {
        error = null;
        if (context.File.IsOpen)
        {
            return true;
        }

        if (context.File.IsDamaged)
        {
            return ReplaceDamaged(out error);
        }

        try
        {
            context.File.Open();
        }
        catch (Exception ex)
        {
            error = ex;
            Log.StoreOperationFailed(context.Logger, "reopen", ex);
            Interlocked.Increment(ref context.Counters.StoreErrors);
            return false;
        }

        Interlocked.Increment(ref context.Counters.StoreReopens);
        Log.StoreReopened(context.Logger);
        return true;
    }

    /// <summary>A store operation other than a commit failed: close the file (the next operation reopens it), log, count.</summary>
    public void OnFailure(string operation, Exception ex)
    {
        context.File.CloseAfterFailure(ex);
        Log.StoreOperationFailed(context.Logger, operation, ex);
        Interlocked.Increment(ref context.Counters.StoreErrors);
        context.Counters.NotifyChanged();
    }

    /// <summary>
    /// Runs LiteDB's checkpoint (copying the log into the data file) once the log passed its threshold, after a
    /// commit: LiteDB's own runs inside <c>Commit</c>, where its failure could not be told from a failed commit.
    /// A failure here leaves the committed transaction in the log, where the next open finds it: it is handled
    /// as any failed store operation (closed, logged, counted), never as a failed commit.
    /// </summary>
    public void CheckpointIfDue()
    {
        if (!context.File.IsOpen)
        {
            return;
        }

        try
        {
            context.File.CheckpointIfDue();
        }
        catch (Exception ex)
        {
            OnFailure("checkpoint", ex);
        }
    }

    /// <summary>
    /// The engine said the file is damaged (an internal assertion such as "page must be writable"): reopening it
    /// would fail every operation the same way, so it is replaced as a file unreadable at start is, with what can
    /// still be read carried over. Events held in memory keep their ids, so their acks still find their segments.
    /// </summary>
    private bool ReplaceDamaged(out Exception? error)
    {
        if (StoreRecovery.TryReplaceDamaged(context, out var movedTo, out error) is not { } salvage)
        {
            Log.StoreOperationFailed(context.Logger, "replace the damaged store", error!);
            Interlocked.Increment(ref context.Counters.StoreErrors);
            return false;
        }

        Log.StoreDamagedInUse(context.Logger, context.File.Path, movedTo);
        long unreadable = 0;
        foreach (var lost in salvage.Lost)
        {
            if (live.Find(lost.FirstId) is { } held && held.FirstId == lost.FirstId)
            {
                // In memory: still sent, and its ack marks nothing in the new file.
                continue;
            }

            // On disk only, and gone: definitively failed, like an evicted event, so a flush does not wait for it.
            unreadable += lost.Pending;
            ledger.StoredEvents -= lost.Pending;
            ledger.StoredBytes -= lost.Bytes;
            Interlocked.Add(ref context.Counters.PendingOnDisk, -lost.Pending);
            handOver.Failed(lost.LastId, lost.Pending);
        }

        StoreRecovery.CountSalvage(context, movedTo, salvage with { Unreadable = unreadable });
        context.Counters.NotifyChanged();
        return true;
    }
}
