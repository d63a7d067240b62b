using System.Diagnostics;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// The process-wide pool of QoS0 <see cref="EventEnvelope"/>s and their payload buffers. A caller rents from a
/// small per-thread magazine (no lock); an empty magazine is refilled from the shared stack under one lock;
/// the egress returns a whole batch under one lock. Envelopes carry nothing of their pipeline once cleared,
/// so every pipeline in the process shares the pool.
/// </summary>
/// <remarks>See <see cref="EventEnvelope"/> for who owns a pooled envelope and when it is returned.</remarks>
internal static class EnvelopePool
{
    /// <summary>Payload buffers larger than this are dropped on return, not kept in the pool.</summary>
    public const int MaxKeptBufferBytes = 4096;

    private const int MagazineSize = 64;

    // At most as many envelopes as the largest MaxQueuedEvents of the pipelines created: QoS0 events in memory are
    // bounded by it already, so the pool never keeps more than the app allowed in flight at its peak.
    private static int s_maxKept = MagazineSize;

    private static readonly Lock s_lock = new();
    private static readonly Stack<EventEnvelope> s_free = new();

    [ThreadStatic]
    private static EventEnvelope[]? t_magazine;

    [ThreadStatic]
    private static int t_count;

    /// <summary>Envelopes in the shared stack (not counting the per-thread magazines); for tests.</summary>
    public static int SharedCount
    {
        get
        {
            lock (s_lock)
            {
                return s_free.Count;
            }
        }
    }

    /// <summary>Lets the pool keep up to <paramref name="maxQueuedEvents"/> envelopes (a pipeline's QoS0 bound).</summary>
    public static void KeepUpTo(int maxQueuedEvents)
    {
        var current = Volatile.Read(ref s_maxKept);
        while (maxQueuedEvents > current)
        {
            var seen = Interlocked.CompareExchange(ref s_maxKept, maxQueuedEvents, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>An empty pooled envelope, marked rented.</summary>
    public static EventEnvelope Rent()
    {
        var magazine = t_magazine ??= new EventEnvelope[MagazineSize];
        if (t_count == 0)
        {
            lock (s_lock)
            {
                while (t_count < MagazineSize && s_free.TryPop(out var free))
                {
                    magazine[t_count++] = free;
                }
            }
        }

        EventEnvelope envelope;
        if (t_count > 0)
        {
            envelope = magazine[--t_count];
            magazine[t_count] = null!;
        }
        else
        {
            envelope = EventEnvelope.CreatePooled();
        }

        Debug.Assert(!envelope.IsRented, "An envelope in the pool is not rented.");
        envelope.IsRented = true;
        return envelope;
    }

    /// <summary>
    /// Returns the pooled envelopes of a batch whose outcome has been applied; the others (QoS1) are left alone. An
    /// envelope already returned is skipped, so a double return cannot hand one envelope to two callers.
    /// </summary>
    public static void Return(ReadOnlySpan<EventEnvelope> batch)
    {
        foreach (var e in batch)
        {
            if (e.IsPooled && e.IsRented)
            {
                e.ClearForPool();
            }
        }

        lock (s_lock)
        {
            foreach (var e in batch)
            {
                if (!e.IsPooled || !e.IsRented)
                {
                    continue;
                }

                e.IsRented = false;
                if (s_free.Count < s_maxKept)
                {
                    s_free.Push(e);
                }
            }
        }
    }
}
