using System.Collections.Concurrent;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The group commit, on the writer thread: every QoS1 event waiting at that moment is written in one transaction
/// (as segments, <see cref="SegmentLayout"/>), handed over, and only then is its TrackAsync completed. With
/// <c>FlushCommitsToDisk</c> the log is synced to the device after each commit, before the callers are answered;
/// without it, every <c>DiskSyncInterval</c> after a commit (<see cref="SyncLog"/>).
/// </summary>
internal sealed class GroupCommit(StoreContext context, StoreFileGuard guard, StoreLedger ledger, StoreHandOver handOver, StoreBounds bounds)
{
    /// <summary>Events in one group commit (or one backlog read) at most.</summary>
    public const int MaxGroupSize = 8192;

    private readonly List<EventEnvelope> _group = new(MaxGroupSize);
    private readonly SegmentBuilder _builder = new();
    private readonly List<int> _segmentEnds = [];

    /// <summary>Set by the writer after a commit it did not sync; read by the sync timer.</summary>
    private volatile bool _unsynced;

    /// <summary>Whether commits since the last sync are only in the OS's cache.</summary>
    public bool IsUnsynced => _unsynced;

    /// <summary>Commits what <paramref name="inserts"/> holds, a group at a time; a flush marker ends a group and cuts the scheduler's batch.</summary>
    public void Drain(ConcurrentQueue<EventEnvelope> inserts)
    {
        while (true)
        {
            EventEnvelope? marker = null;
            while (_group.Count < MaxGroupSize && inserts.TryDequeue(out var envelope))
            {
                if (envelope.Marker is not null)
                {
                    marker = envelope;
                    break;
                }

                _group.Add(envelope);
            }

            if (_group.Count > 0)
            {
                Commit();
            }

            if (marker is not null)
            {
                handOver.PassFlush(marker);
                continue;
            }

            if (inserts.IsEmpty)
            {
                return;
            }
        }
    }

    /// <summary>Syncs the log when commits since the last sync are only in the OS's cache (<c>DiskSyncInterval</c>).</summary>
    public void SyncLog()
    {
        if (!_unsynced || !context.File.IsOpen)
        {
            return;
        }

        try
        {
            context.File.FlushLogToDisk();
            _unsynced = false;
            Interlocked.Increment(ref context.Counters.StoreLogSyncs);
            context.Counters.NotifyChanged();
        }
        catch (Exception ex)
        {
            // Nothing is lost that a killed process would keep; the next interval tries again.
            Log.StoreOperationFailed(context.Logger, "sync the log to disk", ex);
            Interlocked.Increment(ref context.Counters.StoreErrors);
        }
    }

    private void Commit()
    {
        if (!guard.EnsureOpen(out var openError))
        {
            Fail(openError!);
            return;
        }

        long bytes = 0;
        _segmentEnds.Clear();
        try
        {
            context.File.Database.BeginTrans();
            for (var i = 0; i < _group.Count; i++)
            {
                var e = _group[i];
                if (_builder.IsFull(e.Payload.Length))
                {
                    context.File.InsertSegment(_builder);
                    _segmentEnds.Add(i);
                }

                var size = StorePolicy.SizeOf(e);
                _builder.Add(e.Id, e.EventGuid, e.TimestampTicks, e.TypeInfo.Type, e.Payload.Span, size);
                bytes += size;
                if (e.DeadLetterId != 0)
                {
                    // A requeued dead letter: pending again and no longer a dead letter, in one transaction.
                    context.File.DeadLetters.Delete(e.DeadLetterId);
                }
            }

            context.File.InsertSegment(_builder);
            _segmentEnds.Add(_group.Count);
            context.File.Database.Commit();
        }
        catch (Exception ex)
        {
            // LiteDB's engine is unusable after a failed write (its rollback throws too): close the file, and
            // the next operation opens it again, with everything committed before and nothing of this group.
            _builder.Reset();
            context.File.CloseAfterFailure(ex);
            Fail(ex);
            return;
        }

        ClickstreamStorageException? notFlushed = null;
        _unsynced = !context.Options.FlushCommitsToDisk;
        if (context.Options.FlushCommitsToDisk)
        {
            try
            {
                context.File.FlushLogToDisk();
            }
            catch (Exception ex)
            {
                // The group is committed (a killed process would not lose it) but may not survive power loss: its
                // events are kept and sent, and the callers are told.
                Log.StoreOperationFailed(context.Logger, "flush to disk", ex);
                Interlocked.Increment(ref context.Counters.StoreErrors);
                notFlushed = new ClickstreamStorageException(
                    $"The QoS1 event was committed but could not be flushed to the storage device ({nameof(ClickstreamOptions.FlushCommitsToDisk)}): it may be lost on power loss, and it may still be sent. {ex.Message}",
                    ex);
            }
        }

        // After the commit, so that a checkpoint that fails is not the group's failure (see ARCHITECTURE, Decisions:
        // the store checkpoints after the commit); before the callers are answered, where LiteDB's own would run.
        guard.CheckpointIfDue();
        ledger.StoredEvents += _group.Count;
        ledger.StoredBytes += bytes;
        handOver.HandOverCommitted(_group, _segmentEnds);

        // Before the callers are answered: once their TrackAsync completes, the bounds hold again.
        bounds.EvictOverCapacity();
        foreach (var e in _group)
        {
            if (notFlushed is null)
            {
                e.SetCommitted();
            }
            else
            {
                e.SetFailed(notFlushed);
            }
        }

        // Counted after the hand-over: once EventsStored shows an event, the scheduler has it (or it is
        // on disk only, past the memory budget).
        Interlocked.Increment(ref context.Counters.StoreCommits);
        Interlocked.Add(ref context.Counters.Stored, _group.Count);
        Interlocked.Add(ref context.Counters.PendingOnDisk, _group.Count);
        _group.Clear();
        context.Counters.NotifyChanged();
    }

    private void Fail(Exception ex)
    {
        Log.CommitFailed(context.Logger, _group.Count, ex);
        Interlocked.Increment(ref context.Counters.StoreErrors);
        Interlocked.Add(ref context.Counters.StoreFailed, _group.Count);
        var failure = new ClickstreamStorageException($"The QoS1 event could not be committed to the store: {ex.Message}", ex);
        foreach (var e in _group)
        {
            // A failed event is definitively failed: it no longer holds back a flush.
            e.Epoch?.Complete(1);
            e.SetFailed(failure);
        }

        _group.Clear();
        context.Counters.NotifyChanged();
    }
}
