using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Clickstream.Collector.Requests;
using Clickstream.Collector.WebSockets;
using Clickstream.Raccoon;

namespace Clickstream.Collector;

/// <summary>What a <see cref="RaccoonCollector"/> received. Thread-safe; counters are read without locks.</summary>
/// <remarks>
/// Every request, on any protocol, ends in exactly one of <see cref="AcceptedRequests"/>,
/// <see cref="RejectedRequests"/> or <see cref="FailedRequests"/>, so the three add up to <see cref="Requests"/>
/// once no request is in flight.
/// </remarks>
public sealed class CollectorStats
{
    private static readonly FaultKind[] FaultKinds = Enum.GetValues<FaultKind>();

    private readonly bool _keepEvents;
    private readonly WebSocketConnectionTable _connections;
    private readonly ConcurrentDictionary<string, StrongBox<long>> _eventsByType = new(StringComparer.Ordinal);
    private readonly EventCountWaiters _waiters = new();

    // Guards the lists so that a request's events stay together and all lists keep the same order.
    private readonly Lock _receivedLock = new();
    private readonly List<string> _requestIds = [];
    private readonly List<ReceivedEvent> _receivedEvents = [];
    private readonly List<ReceivedRequest> _receivedRequests = [];

    private long _requests;
    private long _acceptedRequests;
    private long _rejectedRequests;
    private long _failedRequests;
    private long _events;
    private long _rejectedWebSocketConnections;

    // Indexed by FaultKind.
    private readonly long[] _faults = new long[FaultKinds.Length];

    internal CollectorStats(bool keepEvents, WebSocketConnectionTable connections)
    {
        _keepEvents = keepEvents;
        _connections = connections;
    }

    /// <summary>
    /// Requests, whatever their outcome: POSTs to the events endpoint, messages on WebSocket connections, gRPC
    /// <c>SendEvent</c> calls.
    /// </summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests answered SUCCESS (including those answered with a wrong <c>req_guid</c> on purpose).</summary>
    public long AcceptedRequests => Interlocked.Read(ref _acceptedRequests);

    /// <summary>
    /// Requests refused as Raccoon refuses them (unknown content type, unreadable or undecodable body or frame, gRPC
    /// call without an id), or by <see cref="CollectorOptions.BearerToken"/> or <see cref="CollectorOptions.RequireIdentity"/>.
    /// </summary>
    public long RejectedRequests => Interlocked.Read(ref _rejectedRequests);

    /// <summary>
    /// Valid requests given a <see cref="Fault"/> by <see cref="CollectorFaults"/> (other than one
    /// <see cref="Fault.AfterAccepting"/>, whose requests are accepted); their events are not counted.
    /// </summary>
    public long FailedRequests => Interlocked.Read(ref _failedRequests);

    /// <summary>Events in accepted requests.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>
    /// WebSocket connections open now. A connection leaves the count before the server answers the client's close
    /// frame, and at once when <see cref="CollectorFaults.DropWebSocketConnections"/> drops it.
    /// </summary>
    public int OpenWebSocketConnections => _connections.Count;

    /// <summary>
    /// WebSocket upgrades refused: by the access rules (before the upgrade), or with CODE_MAX_USER_LIMIT_REACHED or
    /// CODE_MAX_CONNECTION_LIMIT_REACHED (after it).
    /// </summary>
    public long RejectedWebSocketConnections => Interlocked.Read(ref _rejectedWebSocketConnections);

    /// <summary>How many times <paramref name="kind"/> of fault happened (see <see cref="FaultKind"/> for what each counts).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The count since the start or the last <see cref="Reset"/>.</returns>
    public long Faults(FaultKind kind) => Interlocked.Read(ref _faults[(int)kind]);

    /// <summary>A snapshot of the faults that happened, by kind (kinds that did not happen are left out).</summary>
    /// <returns>A new dictionary.</returns>
    public IReadOnlyDictionary<FaultKind, long> FaultsByKind()
    {
        var snapshot = new Dictionary<FaultKind, long>();
        foreach (FaultKind kind in FaultKinds)
        {
            long count = Faults(kind);
            if (count != 0)
            {
                snapshot[kind] = count;
            }
        }

        return snapshot;
    }

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

    /// <summary>
    /// A snapshot of every accepted request's protocol, identity and <c>Authorization</c>, in the order accepted
    /// (empty when <see cref="CollectorOptions.KeepEvents"/> is off).
    /// </summary>
    /// <returns>A new list.</returns>
    public IReadOnlyList<ReceivedRequest> ReceivedRequests()
    {
        lock (_receivedLock)
        {
            return _receivedRequests.ToArray();
        }
    }

    /// <summary>Sets every counter to zero and forgets what was received; <see cref="OpenWebSocketConnections"/> stays.</summary>
    /// <remarks>Not atomic with requests in flight: call it while no client is sending.</remarks>
    public void Reset()
    {
        lock (_receivedLock)
        {
            _requestIds.Clear();
            _receivedEvents.Clear();
            _receivedRequests.Clear();
        }

        _eventsByType.Clear();
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _acceptedRequests, 0);
        Interlocked.Exchange(ref _rejectedRequests, 0);
        Interlocked.Exchange(ref _failedRequests, 0);
        Interlocked.Exchange(ref _events, 0);
        Interlocked.Exchange(ref _rejectedWebSocketConnections, 0);
        for (int i = 0; i < _faults.Length; i++)
        {
            Interlocked.Exchange(ref _faults[i], 0);
        }
    }

    /// <summary>
    /// Called with every accepted request, on the thread that accepted it, before the waiters see its events (the
    /// command line's NDJSON writer). Must be quick and thread-safe; set it before the first request.
    /// </summary>
    public Action<SendEventRequest>? RequestAccepted { get; set; }

    internal Task WaitForEventsAsync(long count, CancellationToken cancellationToken) =>
        _waiters.WaitAsync(count, ref _events, cancellationToken);

    internal void FailWaiters(Exception exception) => _waiters.FailAll(exception);

    internal void OnRequest() => Interlocked.Increment(ref _requests);

    internal void OnRejected() => Interlocked.Increment(ref _rejectedRequests);

    internal void OnFailed() => Interlocked.Increment(ref _failedRequests);

    internal void OnFault(FaultKind kind, long count = 1) => Interlocked.Add(ref _faults[(int)kind], count);

    internal void OnWebSocketConnectionRejected() => Interlocked.Increment(ref _rejectedWebSocketConnections);

    internal void OnAccepted(SendEventRequest request, in RequestOrigin origin)
    {
        // Hot path (every accepted event, at the benchmarks' full rate): no LINQ, no closures; the per-type counter
        // is a box updated with Interlocked, so an existing type costs one lookup and no allocation.
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
                _receivedRequests.Add(new ReceivedRequest(
                    origin.Protocol, request.ReqGuid, origin.Identity.UserId, origin.Identity.Group, origin.Authorization, request.Events.Count));
                foreach (Event e in request.Events)
                {
                    _receivedEvents.Add(new ReceivedEvent(request.ReqGuid, e.Type, e.EventBytes.ToByteArray()));
                }
            }
        }

        Interlocked.Increment(ref _acceptedRequests);
        RequestAccepted?.Invoke(request);

        // Last, so that a waiter released by this count already sees the events, types and ids above.
        long total = Interlocked.Add(ref _events, request.Events.Count);
        _waiters.OnCountChanged(total, ref _events);
    }
}
