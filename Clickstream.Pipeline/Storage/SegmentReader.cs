using Clickstream.Pipeline.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Reads segments from disk for the backlog read-back and for eviction, on the writer thread: decodes a payload
/// into its events (<see cref="Entries"/>) and finds or builds its segment; and takes a segment that cannot be
/// decoded out of the way, so that neither stops at it again (<see cref="IsolateUnreadable"/>).
/// </summary>
internal sealed class SegmentReader(StoreContext context, LiveSegments live, StoreLedger ledger, StoreFileGuard guard, StoreHandOver handOver)
{
    private readonly List<SegmentEntry> _entries = [];

    /// <summary>The events of the payload last read (<see cref="TryRead"/>), in id order.</summary>
    public List<SegmentEntry> Entries => _entries;

    /// <summary>
    /// Decodes a payload read from disk into <see cref="Entries"/> and finds or builds its segment; false, with the
    /// reason, when the payload or its head is corrupt (then nothing about it can be trusted but its key).
    /// </summary>
    public bool TryRead(BsonDocument payload, out Segment? segment, out InvalidDataException? corrupt)
    {
        try
        {
            SegmentLayout.Decode(payload, _entries);
            segment = SegmentOf(payload);
            corrupt = null;
            return true;
        }
        catch (InvalidDataException ex)
        {
            segment = null;
            corrupt = ex;
            return false;
        }
    }

    /// <summary>
    /// Takes a segment that cannot be decoded out of the way, so that neither the backlog read nor eviction nor the
    /// next open stops at it again: its pending events on disk only are definitively failed (counted unreadable,
    /// their delivery epoch completed), and the segment is deleted, or, when some of its events are in memory
    /// (its payload decoded once, then changed on disk), those on disk only are marked done. The backlog goes on
    /// after it. False when the transaction failed (closed, logged, counted): the next pass tries again.
    /// </summary>
    public bool IsolateUnreadable(long firstId, InvalidDataException corrupt)
    {
        long events = 0;
        long bytes = 0;
        try
        {
            context.File.Database.BeginTrans();
            if (live.Find(firstId) is { } held && held.FirstId == firstId)
            {
                for (var i = 0; i < held.Count; i++)
                {
                    var id = held.IdAt(i);
                    if (id >= ledger.SpilledFrom && !held.IsDone(i))
                    {
                        // The sizes are lost with the payload: the bytes left are shared evenly.
                        var size = held.CountedBytes / (held.Count - held.DoneCount);
                        live.MarkDone(held, id, size);
                        events++;
                        bytes += size;
                    }
                }

                live.PersistTouched();
            }
            else
            {
                // The head, when it can be read, says how many events and bytes the segment held.
                var head = context.File.Segments.FindById(firstId);
                if (head is not null && head[SegmentLayout.Count].IsInt32 && head[SegmentLayout.CountedBytes].IsInt64)
                {
                    events = Math.Max(0, head[SegmentLayout.Count].AsInt32 - SegmentLayout.DoneCount(head));
                    bytes = Math.Max(0, head[SegmentLayout.CountedBytes].AsInt64);
                }

                context.File.Payloads.Delete(firstId);
                context.File.Segments.Delete(firstId);
            }

            context.File.Database.Commit();
        }
        catch (Exception ex)
        {
            live.EndTouched(committed: false);
            guard.OnFailure("unreadable segment", ex);
            return false;
        }

        live.EndTouched(committed: true);
        guard.CheckpointIfDue();

        // Past the segment: its key is unique, and every later segment starts after its last id.
        ledger.SpilledFrom = firstId + 1;
        ledger.SpilledSegment = firstId + 1;
        ledger.StoredEvents -= events;
        ledger.StoredBytes -= bytes;
        if (events > 0)
        {
            handOver.Failed(firstId, (int)events);
        }

        var counters = context.Counters;
        ledger.DeletedSinceCompactionCheck = true;
        Interlocked.Add(ref counters.PendingOnDisk, -events);
        Interlocked.Add(ref counters.EventsUnreadable, events);
        Log.SegmentUnreadable(context.Logger, firstId, events, corrupt.Message, corrupt);
        counters.NotifyChanged();
        return true;
    }

    /// <summary>
    /// The segment of a payload read from disk: the one in memory when it is there, else built from the payload
    /// and its head (what is done already).
    /// </summary>
    private Segment SegmentOf(BsonDocument payload)
    {
        var firstId = payload["_id"].AsInt64;
        if (live.Find(firstId) is { } held && held.FirstId == firstId)
        {
            return held;
        }

        var ids = new long[_entries.Count];
        long bytes = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = _entries[i].Id;
            bytes += _entries[i].Size;
        }

        var head = context.File.Segments.FindById(firstId);
        return head is null
            ? new Segment(ids, bytes, done: null)
            : new Segment(ids, head[SegmentLayout.CountedBytes].AsInt64, SegmentLayout.CheckHead(head, ids.Length));
    }
}
