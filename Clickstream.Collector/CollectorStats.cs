using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Clickstream.Pipeline.Raccoon;

namespace Clickstream.Collector;

/// <summary>What a <see cref="RaccoonCollector"/> received. Thread-safe; counters are read without locks.</summary>
/// <remarks>
/// Every POST to the events endpoint ends in exactly one of <see cref="AcceptedRequests"/>,
/// <see cref="RejectedRequests"/> or <see cref="FailedRequests"/>, so the three add up to <see cref="Requests"/>
/// once no request is in flight.
/// </remarks>
public sealed class CollectorStats
{
    private readonly bool _keepEvents;
    private readonly ConcurrentDictionary<string, StrongBox<long>> _eventsByType = new(StringComparer.Ordinal);
    private readonly EventCountWaiters _waiters = new();

    // Guards the two lists so that a request's events stay together and both lists keep the same order.
    private readonly Lock _receivedLock = new();
    private readonly List<string> _requestIds = [];
    private readonly List<ReceivedEvent> _receivedEvents = [];

    private long _requests;
    private long _acceptedRequests;
    private long _rejectedRequests;
    private long _failedRequests;
    private long _events;

    internal CollectorStats(bool keepEvents) => _keepEvents = keepEvents;

    /// <summary>POSTs to the events endpoint, whatever their outcome.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests answered 200 SUCCESS (including those answered with a wrong <c>req_guid</c> on purpose).</summary>
    public long AcceptedRequests => Interlocked.Read(ref _acceptedRequests);

    /// <summary>Requests refused as Raccoon refuses them: unknown content type, unreadable or undecodable body.</summary>
    public long RejectedRequests => Interlocked.Read(ref _rejectedRequests);

    /// <summary>Valid requests answered with an error by <see cref="CollectorFaults"/>; their events are not counted.</summary>
    public long FailedRequests => Interlocked.Read(ref _failedRequests);

    /// <summary>Events in accepted requests.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>A snapshot of accepted events per <c>type</c>.</summary>
    /// <returns>A new dictionary, keyed by type.</returns>
    public IReadOnlyDictionary<string, long> EventsByType()
    {
        var snapshot = new Dictionary<string, long>(_eventsByType.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, StrongBox<long>> entry in _eventsByType)
        {
            snapshot[entry.Key] = Interlocked.Read(ref entry.Value.Value);
        }

        return snapshot;
    }

    /// <summary>
    /// A snapshot of the <c>req_guid</c> of every accepted request, in the order they were accepted
    /// (empty when <see cref="CollectorOptions.KeepEvents"/> is off).
    /// </summary>
    /// <returns>A new list.</returns>
    public IReadOnlyList<string> RequestIds()
    {
        lock (_receivedLock)
        {
            return _requestIds.ToArray();
        }
    }

    /// <summary>
    /// A snapshot of every accepted event, in the order accepted, a request's events together
    /// (empty when <see cref="CollectorOptions.KeepEvents"/> is off).
    /// </summary>
    /// <returns>A new list.</returns>
    public IReadOnlyList<ReceivedEvent> ReceivedEvents()
    {
        lock (_receivedLock)
        {
            return _receivedEvents.ToArray();
        }
    }

    /// <summary>Sets every counter to zero and forgets what was received.</summary>
    /// <remarks>Not atomic with requests in flight: call it while no client is sending.</remarks>
    public void Reset()
    {
        lock (_receivedLock)
        {
            _requestIds.Clear();
            _receivedEvents.Clear();
        }

        _eventsByType.Clear();
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _acceptedRequests, 0);
        Interlocked.Exchange(ref _rejectedRequests, 0);
        Interlocked.Exchange(ref _failedRequests, 0);
        Interlocked.Exchange(ref _events, 0);
    }

    internal Task WaitForEventsAsync(long count, CancellationToken cancellationToken) =>
        _waiters.WaitAsync(count, ref _events, cancellationToken);

    internal void FailWaiters(Exception exception) => _waiters.FailAll(exception);

    internal void OnRequest() => Interlocked.Increment(ref _requests);

    internal void OnRejected() => Interlocked.Increment(ref _rejectedRequests);

    internal void OnFailed() => Interlocked.Increment(ref _failedRequests);

    internal void OnAccepted(SendEventRequest request)
    {
        // Hot path (hundreds of thousands of events a second): no LINQ, no closures; the per-type counter is
        // a box updated with Interlocked, so an existing type costs one lookup and no allocation.
        foreach (Event e in request.Events)
        {
            StrongBox<long> counter = _eventsByType.GetOrAdd(e.Type, static _ => new StrongBox<long>());
            Interlocked.Increment(ref counter.Value);
        }

        if (_keepEvents)
        {
            lock (_receivedLock)
            {
                _requestIds.Add(request.ReqGuid);
                foreach (Event e in request.Events)
                {
                    _receivedEvents.Add(new ReceivedEvent(request.ReqGuid, e.Type, e.EventBytes.ToByteArray()));
                }
            }
        }

        Interlocked.Increment(ref _acceptedRequests);

        // Last, so that a waiter released by this count already sees the events, types and ids above.
        long total = Interlocked.Add(ref _events, request.Events.Count);
        _waiters.OnCountChanged(total, ref _events);
    }
}
