using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Clickstream.Collector.Hosting;

/// <summary>
/// The open TCP connections of both listeners, by connection id (the <c>HttpContext.Connection.Id</c> of their
/// requests), as a Kestrel connection middleware sees them: so that a fault can reset one, and an outage all.
/// </summary>
/// <remarks>
/// While refusing (the collector is down) a new connection is aborted at once: one accepted just before the listener
/// closed must not slip through. The flag and the table share one lock, so a connection is either listed before
/// <see cref="RefuseAndAbortAll"/> takes its snapshot, or sees the flag.
/// </remarks>
internal sealed class ConnectionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ConnectionContext> _open = new(StringComparer.Ordinal);
    private readonly Action _onRefused;
    private bool _refusing;

    /// <param name="onRefused">Called for each connection aborted because the collector is down.</param>
    public ConnectionRegistry(Action onRefused) => _onRefused = onRefused;

    /// <summary>The connection middleware: lists the connection while it runs.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        bool admitted;
        lock (_lock)
        {
            admitted = !_refusing && _open.TryAdd(connection.ConnectionId, connection);
        }

        if (!admitted)
        {
            _onRefused();
            Reset(connection);
            return;
        }

        try
        {
            await next(connection);
        }
        finally
        {
            lock (_lock)
            {
                _open.Remove(connection.ConnectionId);
            }
        }
    }

    /// <summary>Resets the connection <paramref name="connectionId"/>, if it is still open.</summary>
    /// <returns>Whether it was open.</returns>
    public bool Reset(string connectionId)
    {
        ConnectionContext? connection;
        lock (_lock)
        {
            _open.TryGetValue(connectionId, out connection);
        }

        if (connection is null)
        {
            return false;
        }

        Reset(connection);
        return true;
    }

    /// <summary>From now on aborts every new connection, and aborts every open one.</summary>
    /// <returns>How many were open.</returns>
    public int RefuseAndAbortAll()
    {
        ConnectionContext[] open;
        lock (_lock)
        {
            _refusing = true;
            open = [.. _open.Values];
            _open.Clear();
        }

        // Outside the lock: aborting runs transport code.
        foreach (ConnectionContext connection in open)
        {
            Reset(connection);
        }

        return open.Length;
    }

    /// <summary>Admits new connections again.</summary>
    public void Admit()
    {
        lock (_lock)
        {
            _refusing = false;
        }
    }

    private static void Reset(ConnectionContext connection)
    {
        // Linger 0: closing sends a TCP RST, as a crashed server or a broken path does, rather than an orderly FIN.
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            try
            {
                socket.LingerState = new LingerOption(enable: true, seconds: 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already closed: nothing to reset.
            }
        }

        connection.Abort(new ConnectionAbortedException("Reset by an injected fault."));
    }
}
