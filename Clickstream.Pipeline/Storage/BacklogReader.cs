using Clickstream.Pipeline.Processing;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Reads QoS1 events that are on disk only (from <see cref="StoreLedger.SpilledFrom"/> on) back into memory, oldest
/// first, once acks freed half the memory budget, and hands them over: after an outage that went past the budget,
/// and at every start, never all at once. Writer thread only.
/// </summary>
internal sealed class BacklogReader(
    StoreContext context, StoreFileGuard guard, LiveSegments live, StoreLedger ledger, SegmentReader segments, StoreHandOver handOver, StoreWriter writer)
{
    /// <summary>Reads events that are on disk only back into memory, oldest first, once acks freed half the budget.</summary>
    public void Load()
    {
        // Again after each unreadable segment taken out of the way, from the segment after it.
        while (LoadPart())
        {
        }
    }

    /// <summary>One pass of <see cref="Load"/>; true when it stopped at an unreadable segment, isolated it, and the backlog goes on.</summary>
    private bool LoadPart()
    {
        if (ledger.SpilledFrom < 0 || writer.IsStopping || !context.Policy.HasRoomForBacklog(ledger.InMemory, ledger.InMemoryBytes) || !guard.EnsureOpen(out _))
        {
            return false;
        }

        var wanted = context.Policy.MemoryEvents - ledger.InMemory;
        var loaded = new List<EventEnvelope>(Math.Min(wanted, GroupCommit.MaxGroupSize));
        var entries = segments.Entries;
        long loadedBytes = 0;
        long stoppedAt = -1;
        long stoppedSegment = -1;
        long unreadable = -1;
        InvalidDataException? corrupt = null;
        try
        {
            foreach (var payload in context.File.Payloads.Find(Query.GTE("_id", ledger.SpilledSegment)))
            {
                if (!segments.TryRead(payload, out var segment, out corrupt))
                {
                    // Isolated once the query is closed: LiteDB takes no write while a query over the file is open.
                    unreadable = payload["_id"].AsInt64;
                    break;
                }

                var handed = false;
                for (var i = 0; i < entries.Count && stoppedAt < 0; i++)
                {
                    var entry = entries[i];
                    if (entry.Id < ledger.SpilledFrom || segment!.IsDone(i))
                    {
                        continue;
                    }

                    var size = entry.Size;
                    if (loaded.Count == wanted || !context.Policy.FitsInMemory(ledger.InMemory + loaded.Count, ledger.InMemoryBytes + loadedBytes, size))
                    {
                        stoppedAt = entry.Id;
                        stoppedSegment = segment.FirstId;
                        break;
                    }

                    loaded.Add(handOver.ReadBack(entry));
                    loadedBytes += size;
                    handed = true;
                }

                if (handed && !segment!.IsLive)
                {
                    live.Add(segment);
                }

                if (stoppedAt >= 0)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            guard.OnFailure("backlog read", ex);
            return false;
        }

        if (loaded.Count > 0)
        {
            handOver.HandOverRead(loaded, loadedBytes);
        }

        if (unreadable >= 0)
        {
            // Every event before the unreadable segment is in memory now; the isolation moves past it.
            if (loaded.Count > 0)
            {
                ledger.SpilledFrom = Math.Max(ledger.SpilledFrom, loaded[^1].Id + 1);
            }

            return segments.IsolateUnreadable(unreadable, corrupt!);
        }

        // Every event the writer committed is in the file: reaching the end without stopping means the backlog is read.
        ledger.SpilledFrom = stoppedAt;
        ledger.SpilledSegment = stoppedSegment;
        return false;
    }
}
