using System.Collections.Concurrent;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>A health observer that keeps what it is told; it can be made to throw.</summary>
internal sealed class HealthRecorder : IObserver<ClickstreamHealthEvent>
{
    private readonly ConcurrentQueue<ClickstreamHealthEvent> _events = new();
    private int _calls;
    private int _concurrent;

    public IReadOnlyList<ClickstreamHealthEvent> Events => [.. _events];

    public bool Completed { get; private set; }

    /// <summary>Whether two calls ever overlapped (the observer contract says they must not).</summary>
    public bool Overlapped { get; private set; }

    /// <summary>Throw from every call when set.</summary>
    public bool Throw { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public List<ClickstreamHealthEvent> Of(ClickstreamHealthEventKind kind) => _events.Where(e => e.Kind == kind).ToList();

    public void OnNext(ClickstreamHealthEvent value)
    {
        if (Interlocked.Increment(ref _concurrent) > 1)
        {
            Overlapped = true;
        }

        Interlocked.Increment(ref _calls);
        _events.Enqueue(value);
        Interlocked.Decrement(ref _concurrent);
        if (Throw)
        {
            throw new InvalidOperationException("observer bug");
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted() => Completed = true;
}
