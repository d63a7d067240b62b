using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Clickstream.Collector.Hosting;

/// <summary>
/// The open TCP connections of both listeners, by connection id (the <c>HttpContext.Connection.Id</c> of their
/// requests), as a Kestrel connection middleware sees them: so that a fault can reset one.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ConnectionContext> _open = new(StringComparer.Ordinal);

    /// <summary>The connection middleware: lists the connection while it runs.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        lock (_lock)
        {
            _open.Add(connection.ConnectionId, connection);
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
