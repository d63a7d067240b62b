using System.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// What the writer thread knows of one segment (see <see cref="SegmentLayout"/>): its event ids and which are
/// done. Held while some of its events are in memory, so that an ack finds them; built for a moment when an
/// eviction or a backlog read touches a segment on disk only.
/// </summary>
internal sealed class Segment
{
    private readonly long[] _ids;
    private byte[]? _done;

    public Segment(long[] ids, long countedBytes, byte[]? done)
    {
        Debug.Assert(ids.Length > 0, "A segment holds at least one event.");
        _ids = ids;
        CountedBytes = countedBytes;
        _done = done;
        DoneCount = 0;
        if (done is not null)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                DoneCount += SegmentLayout.IsDone(done, i) ? 1 : 0;
            }
        }
    }

    public long FirstId => _ids[0];

    public long LastId => _ids[^1];

    public int Count => _ids.Length;

    public int DoneCount { get; private set; }

    /// <summary>The bytes counted for the events not done yet.</summary>
    public long CountedBytes { get; private set; }

    public bool AllDone => DoneCount == _ids.Length;

    /// <summary>In the writer's list of segments with events in memory.</summary>
    public bool IsLive { get; set; }

    /// <summary>Deleted from the file: every event is done.</summary>
    public bool IsRemoved { get; set; }

    /// <summary>Changed in the open transaction: its head is to be written (or the segment deleted).</summary>
    public bool IsTouched { get; set; }

    /// <summary>The event's index in the segment, or a negative number when it is not in it.</summary>
    public int IndexOf(long id) => Array.BinarySearch(_ids, id);

    public long IdAt(int index) => _ids[index];

    public bool IsDone(int index) => SegmentLayout.IsDone(_done, index);

    public void MarkDone(int index, long size)
    {
        _done ??= new byte[(_ids.Length + 7) / 8];
        _done[index >> 3] |= (byte)(1 << (index & 7));
        DoneCount++;
        CountedBytes -= size;
    }

    /// <summary>Undoes <see cref="MarkDone"/> when the transaction that was to persist it failed.</summary>
    public void Unmark(int index, long size)
    {
        _done![index >> 3] &= (byte)~(1 << (index & 7));
        DoneCount--;
        CountedBytes += size;
    }

    public BsonDocument ToHead() => SegmentLayout.Head(FirstId, _ids.Length, LastId, CountedBytes, _done);
}
