namespace Clickstream.Benchmarks.Stub;

/// <summary>What the stub received, counted with interlocked adds: Raccoon events and requests, OTLP log records and requests.</summary>
internal sealed class StubCounts
{
    private long _events;
    private long _eventRequests;
    private long _logRecords;
    private long _logRequests;
    private long _badRequests;

    public long Events => Interlocked.Read(ref _events);

    public long EventRequests => Interlocked.Read(ref _eventRequests);

    public long LogRecords => Interlocked.Read(ref _logRecords);

    public long LogRequests => Interlocked.Read(ref _logRequests);

    public long BadRequests => Interlocked.Read(ref _badRequests);

    public void OnEvents(int count)
    {
        Interlocked.Add(ref _events, count);
        Interlocked.Increment(ref _eventRequests);
    }

    public void OnLogRecords(int count)
    {
        Interlocked.Add(ref _logRecords, count);
        Interlocked.Increment(ref _logRequests);
    }

    public void OnBadRequest() => Interlocked.Increment(ref _badRequests);
}
