using Clickstream.Pipeline.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Holds the store to its bounds (bytes, events, time to live) on the writer thread: past a bound, or once events
/// expired, the oldest events on disk only are evicted, counted and definitively failed. The rules themselves
/// are arithmetic in <see cref="StorePolicy"/>.
/// </summary>
/// <remarks>
/// Only events on disk only are evicted, never those handed to the scheduler, although these are older:
/// they may be in a request in flight (the server may have them already), and only the egress can take an
/// event out of a batch, retry or ack, where an eviction would race with the ack over its epoch. So memory
/// holds at most half of each bound (<see cref="StorePolicy"/>), and what has to go is always on disk. The
/// cost: up to <see cref="StorePolicy.MemoryEvents"/> events, the next to be sent, outlive their time to
/// live during a long outage.
/// </remarks>
internal sealed class StoreBounds(StoreContext context, StoreFileGuard guard, LiveSegments live, StoreLedger ledger, SegmentReader segments, StoreHandOver handOver)
{
    private const int EvictionChunk = 8192;

    private readonly List<long> _evicted = [];

    /// <summary>Evicts the oldest events on disk only down to the eviction target, once the store is past a bound.</summary>
    public void EvictOverCapacity()
    {
        if (context.Policy.IsOverCapacity(ledger.StoredEvents, ledger.StoredBytes))
        {
            Evict(expiredBefore: null);
        }
    }

    /// <summary>Evicts the events on disk only that outlived the time to live.</summary>
    public void EvictExpired()
    {
        var expiredBefore = context.Policy.ExpiredBefore(context.TimeProvider.GetUtcNow());
        if (expiredBefore != long.MinValue)
        {
            Evict(expiredBefore);
        }
    }

    /// <summary>
    /// Marks done the oldest events on disk only, one transaction per chunk, while they are expired
    /// (<paramref name="expiredBefore"/>) or, without it, while the store is above its eviction target; a segment
    /// left with nothing pending is deleted. The evicted events are definitively failed: their delivery epochs
    /// are completed, so a flush does not wait for them.
    /// </summary>
    private void Evict(long? expiredBefore)
    {
        var counters = context.Counters;
        var entries = segments.Entries;
        long total = 0;
        var chunkFull = true;
        while (chunkFull && ledger.SpilledFrom >= 0 && guard.EnsureOpen(out _))
        {
            _evicted.Clear();
            long bytes = 0;
            long next = -1;
            long nextSegment = -1;
            long unreadable = -1;
            InvalidDataException? corrupt = null;
            chunkFull = false;
            try
            {
                foreach (var payload in context.File.Payloads.Find(Query.GTE("_id", ledger.SpilledSegment)))
                {
                    if (!segments.TryRead(payload, out var segment, out corrupt))
                    {
                        // Evicted up to it in this chunk, then isolated once the query is closed.
                        unreadable = payload["_id"].AsInt64;

                        // A segment partly in memory starts before SpilledFrom: its events in memory stay there.
                        next = Math.Max(ledger.SpilledFrom, unreadable);
                        nextSegment = unreadable;
                        chunkFull = true;
                        break;
                    }

                    for (var i = 0; i < entries.Count && next < 0; i++)
                    {
                        var entry = entries[i];
                        if (entry.Id < ledger.SpilledFrom || segment!.IsDone(i))
                        {
                            continue;
                        }

                        var goes = expiredBefore is { } before
                            ? entry.TimestampTicks < before
                            : context.Policy.IsAboveTarget(ledger.StoredEvents - _evicted.Count, ledger.StoredBytes - bytes);
                        if (!goes || _evicted.Count == EvictionChunk)
                        {
                            next = entry.Id;
                            nextSegment = segment.FirstId;
                            chunkFull = goes;
                            break;
                        }

                        live.MarkDone(segment, entry.Id, entry.Size);
                        _evicted.Add(entry.Id);
                        context.Hooks?.Evicting?.Invoke(entry.Data.AsMemory(entry.Offset, entry.Length));
                        bytes += entry.Size;
                    }

                    if (next >= 0)
                    {
                        break;
                    }
                }

                if (_evicted.Count > 0)
                {
                    context.File.Database.BeginTrans();
                    live.PersistTouched();
                    context.File.Database.Commit();
                }
            }
            catch (Exception ex)
            {
                live.EndTouched(committed: false);
                guard.OnFailure("eviction", ex);
                break;
            }

            if (_evicted.Count == 0 && unreadable < 0)
            {
                break;
            }

            live.EndTouched(committed: true);
            guard.CheckpointIfDue();

            // -1 when every event on disk only went: the next commit can go to memory again.
            ledger.SpilledFrom = next;
            ledger.SpilledSegment = nextSegment;
            ledger.StoredEvents -= _evicted.Count;
            ledger.StoredBytes -= bytes;
            total += _evicted.Count;
            Interlocked.Add(ref counters.PendingOnDisk, -_evicted.Count);
            Interlocked.Add(ref expiredBefore is null ? ref counters.EvictedOverCapacity : ref counters.EvictedExpired, _evicted.Count);
            handOver.Evicted(_evicted);
            if (unreadable >= 0 && !segments.IsolateUnreadable(unreadable, corrupt!))
            {
                break;
            }
        }

        if (total > 0)
        {
            ledger.DeletedSinceCompactionCheck = true;
            Log.EventsEvicted(context.Logger, total, expiredBefore is null ? "over capacity" : "expired", ledger.StoredEvents, ledger.StoredBytes);
            counters.NotifyChanged();
        }
    }
}
