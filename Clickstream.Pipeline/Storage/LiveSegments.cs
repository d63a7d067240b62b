using System.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The segments with events in memory, in id order, so that an ack finds its segment by binary search; and the
/// events marked done in the open transaction, written with it (<see cref="PersistTouched"/>) or undone when it
/// fails (<see cref="EndTouched"/>). Writer thread only.
/// </summary>
internal sealed class LiveSegments(StoreDatabase file)
{
    // Those all done are removed in bulk once they are half the list. Marks and touched segments belong to the
    // open transaction.
    private readonly List<Segment> _live = [];
    private readonly List<Mark> _marks = [];
    private readonly List<Segment> _touched = [];
    private int _liveRemoved;

    public void Add(Segment segment)
    {
        Debug.Assert(_live.Count == 0 || _live[^1].FirstId < segment.FirstId, "Segments come to memory in id order.");
        segment.IsLive = true;
        _live.Add(segment);
    }

    /// <summary>The segment in memory that holds the event with this id, or null.</summary>
    public Segment? Find(long id)
    {
        int low = 0, high = _live.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (_live[mid].FirstId <= id)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (high < 0)
        {
            return null;
        }

        var segment = _live[high];
        return segment.IsRemoved || id > segment.LastId ? null : segment;
    }

    /// <summary>Marks the event done (acknowledged, dead-lettered or evicted) in the open transaction; false when it was already, or is not stored.</summary>
    public bool MarkDone(Segment? segment, long id, long size)
    {
        var index = segment?.IndexOf(id) ?? -1;
        if (index < 0 || segment!.IsDone(index))
        {
            return false;
        }

        segment.MarkDone(index, size);
        _marks.Add(new Mark(segment, index, size));
        if (!segment.IsTouched)
        {
            segment.IsTouched = true;
            _touched.Add(segment);
        }

        return true;
    }

    /// <summary>Writes the heads of the segments touched in the open transaction, or deletes those now all done.</summary>
    public void PersistTouched()
    {
        foreach (var segment in _touched)
        {
            if (segment.AllDone)
            {
                var id = new BsonValue(segment.FirstId);
                file.Payloads.Delete(id);
                file.Segments.Delete(id);
            }
            else
            {
                file.Segments.Update(segment.ToHead());
            }
        }
    }

    /// <summary>After the transaction: committed, the segments all done leave memory; failed, the marks are undone.</summary>
    public void EndTouched(bool committed)
    {
        if (!committed)
        {
            foreach (var mark in _marks)
            {
                mark.Segment.Unmark(mark.Index, mark.Size);
            }
        }

        foreach (var segment in _touched)
        {
            segment.IsTouched = false;
            if (committed && segment.AllDone && segment.IsLive)
            {
                segment.IsRemoved = true;
                _liveRemoved++;
            }
        }

        _marks.Clear();
        _touched.Clear();
        if (_liveRemoved > 64 && _liveRemoved > _live.Count / 2)
        {
            _live.RemoveAll(static s => s.IsRemoved);
            _liveRemoved = 0;
        }
    }

    /// <summary>An event marked done in the open transaction, to undo if it fails.</summary>
    private readonly record struct Mark(Segment Segment, int Index, long Size);
}
