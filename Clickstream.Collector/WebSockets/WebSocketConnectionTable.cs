namespace Clickstream.Collector.WebSockets;

/// <summary>Whether a new WebSocket connection may stay open.</summary>
internal enum Admission
{
    Admitted,

    /// <summary>A connection with the same identity is open: Raccoon answers CODE_MAX_USER_LIMIT_REACHED.</summary>
    DuplicateIdentity,

    /// <summary><see cref="CollectorOptions.MaxConnections"/> are open: CODE_MAX_CONNECTION_LIMIT_REACHED.</summary>
    LimitReached,
}

/// <summary>
/// The open WebSocket connections by identity, as Raccoon's connection table (server/rest/websocket/connection/table.go):
/// the cap is checked before the duplicate, and one identity has at most one connection.
/// </summary>
internal sealed class WebSocketConnectionTable(int maxConnections)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Id, string Group), WebSocketSession> _open = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    public Admission TryAdmit(WebSocketSession session)
    {
        lock (_lock)
        {
            if (_open.Count >= maxConnections)
            {
                return Admission.LimitReached;
            }

            return _open.TryAdd(session.Identity.Key, session) ? Admission.Admitted : Admission.DuplicateIdentity;
        }
    }

    /// <summary>Removes <paramref name="session"/> if it is still the one listed under its identity.</summary>
    public void Remove(WebSocketSession session)
    {
        lock (_lock)
        {
            // Only this session's own entry: after a drop, the same identity may already have reconnected.
            if (_open.TryGetValue(session.Identity.Key, out WebSocketSession? listed) && ReferenceEquals(listed, session))
            {
                _open.Remove(session.Identity.Key);
            }
        }
    }

    /// <summary>Removes every connection and aborts it.</summary>
    /// <returns>How many there were.</returns>
    public int AbortAll()
    {
        WebSocketSession[] open;
        lock (_lock)
        {
            open = [.. _open.Values];
            _open.Clear();
        }

        // Outside the lock: aborting runs Kestrel and socket code.
        foreach (WebSocketSession session in open)
        {
            session.Abort();
        }

        return open.Length;
    }
}
