using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Flow;

/// <summary>
/// The arrays a pipeline's ingress reads its chunks into, all of one length: the pump rents one, the scheduler gives back
/// a chunk it has taken the events out of, and the egress gives back a QoS0 batch it has acknowledged (a full chunk is
/// filled into the next batch as it is: <see cref="Scheduling.BatchCutter.Recycle"/>). The array goes round the graph
/// instead of being made anew for every chunk read.
/// </summary>
/// <remarks>
/// Only an array nothing else holds may come back: the scheduler's consumed chunk, or a batch whose outcome has been
/// applied and whose events were not stored (a QoS1 batch's array went to the store). Arrays of another length are not
/// kept, and an empty pool makes a new array, so a chunk that leaves the loop (to the store, to a retry) costs nothing
/// but its allocation.
/// </remarks>
internal sealed class ChunkPool
{
    /// <summary>Arrays kept: a few batches in flight, and the chunks on their way.</summary>
    private const int MaxKept = 16;

    private readonly Lock _lock = new();
    private readonly EventEnvelope[][] _free = new EventEnvelope[MaxKept][];
    private int _count;

    public ChunkPool(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
    }

    /// <summary>The length of every array this pool hands out.</summary>
    public int Length { get; }

    /// <summary>Arrays kept now; for tests.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>An empty array of <see cref="Length"/>: a kept one, or a new one.</summary>
    public EventEnvelope[] Rent()
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                var array = _free[--_count];
                _free[_count] = null!;
                return array;
            }
        }

        return new EventEnvelope[Length];
    }

    /// <summary>Keeps <paramref name="array"/>, cleared, if it is of this pool's length and there is room.</summary>
    public void Return(EventEnvelope[] array)
    {
        if (array.Length != Length)
        {
            return;
        }

        Array.Clear(array);
        lock (_lock)
        {
            if (_count == MaxKept || Array.IndexOf(_free, array, 0, _count) >= 0)
            {
                // Full, or given back twice: kept once, so that it is never handed to two renters.
                return;
            }

            _free[_count++] = array;
        }
    }
}
