using System.Runtime.InteropServices;
using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Every call the store makes to the rest of the pipeline, in one place: committed QoS1 events and those read back
/// from disk go to the scheduler while memory allows; a flush marker cuts the scheduler's batch; events read back
/// get their type and delivery epoch; events that failed for good (evicted, unreadable, lost with a damaged file)
/// complete their epochs, so that a flush does not wait for them. Writer thread only.
/// </summary>
internal sealed class StoreHandOver(ITargetBlock<FlowMessage> scheduler, DeliveryEpochs epochs, EventTypeRegistry types, StorePolicy policy, StoreLedger ledger, LiveSegments live)
{
    /// <summary>
    /// Gives a committed group to the scheduler while memory allows; the rest stays on disk only. Each segment
    /// with an event handed over is remembered, so that acks find it. <paramref name="segmentEnds"/>: where each
    /// segment of the group ends (exclusive).
    /// </summary>
    public void HandOverCommitted(List<EventEnvelope> group, List<int> segmentEnds)
    {
        if (ledger.SpilledFrom >= 0)
        {
            // Older events wait on disk: these must come after them, so they are read back in turn.
            return;
        }

        var count = 0;
        long bytes = 0;
        foreach (var e in group)
        {
            var size = StorePolicy.SizeOf(e);
            if (!policy.FitsInMemory(ledger.InMemory + count, ledger.InMemoryBytes + bytes, size))
            {
                break;
            }

            count++;
            bytes += size;
        }

        var start = 0;
        foreach (var end in segmentEnds)
        {
            if (start >= count)
            {
                // The first event on disk only is the first of this segment.
                ledger.SpilledFrom = ledger.SpilledSegment = group[start].Id;
                break;
            }

            var ids = new long[end - start];
            long segmentBytes = 0;
            for (var i = start; i < end; i++)
            {
                ids[i - start] = group[i].Id;
                segmentBytes += StorePolicy.SizeOf(group[i]);
            }

            live.Add(new Segment(ids, segmentBytes, done: null));
            if (count < end)
            {
                // Part of this segment stays on disk only.
                ledger.SpilledFrom = group[count].Id;
                ledger.SpilledSegment = ids[0];
                break;
            }

            start = end;
        }

        if (count > 0)
        {
            ledger.InMemory += count;
            ledger.InMemoryBytes += bytes;
            scheduler.Post(FlowMessage.Committed(CollectionsMarshal.AsSpan(group)[..count].ToArray()));
        }
    }

    /// <summary>Gives events read back from disk (<see cref="ReadBack"/>), in id order, to the scheduler.</summary>
    public void HandOverRead(List<EventEnvelope> loaded, long bytes)
    {
        ledger.InMemory += loaded.Count;
        ledger.InMemoryBytes += bytes;
        scheduler.Post(FlowMessage.Committed([.. loaded]));
    }

    /// <summary>
    /// A flush marker reached the writer: everything tracked before the flush is committed and handed over, so the
    /// flush goes on to the scheduler, which cuts the open batch now rather than when its timer fires.
    /// </summary>
    public void PassFlush(EventEnvelope marker) => scheduler.Post(FlowMessage.Flush(marker));

    /// <summary>An event read back from disk, as the processor would have left it: QoS1, in the epoch of its id.</summary>
    public EventEnvelope ReadBack(in SegmentEntry entry)
    {
        var e = new EventEnvelope(types.GetDurable(entry.Type), entry.CopyBytes(), entry.Id, entry.EventGuid, entry.TimestampTicks);
        e.Epoch = epochs.Find(e.Id);
        return e;
    }

    /// <summary>
    /// Completes the delivery epoch of <paramref name="count"/> events that failed for good, found by
    /// <paramref name="id"/>: a group commit never spans a flush, so every event of a segment counts in one epoch.
    /// </summary>
    public void Failed(long id, int count) => epochs.Find(id).Complete(count);

    /// <summary>Completes the delivery epochs of evicted events, one call per run of the same epoch.</summary>
    public void Evicted(List<long> evicted)
    {
        DeliveryEpoch? run = null;
        var count = 0;
        foreach (var id in evicted)
        {
            // Found by id, under the epochs' lock: an epoch sealed meanwhile ends exactly where the flush put it.
            var epoch = epochs.Find(id);
            if (!ReferenceEquals(epoch, run))
            {
                run?.Complete(count);
                run = epoch;
                count = 0;
            }

            count++;
        }

        run?.Complete(count);
    }
}
