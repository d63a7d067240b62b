using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Clickstream.Collector.Hosting;

/// <summary>
/// Takes the whole collector down and brings it back: every listening port closed (connects refused), every open
/// connection reset; then the ports opened again, on the same numbers.
/// </summary>
internal sealed class OutageSwitch
{
    private readonly Lock _lock = new();
    private readonly List<SwitchableListener> _listeners = [];
    private readonly ConnectionRegistry _connections;
    private readonly Action<int> _onDown;
    private bool _down;

    /// <param name="connections">The open connections of every listener.</param>
    /// <param name="onDown">Called, with the number of connections dropped, each time the collector goes down.</param>
    public OutageSwitch(ConnectionRegistry connections, Action<int> onDown)
    {
        _connections = connections;
        _onDown = onDown;
    }

    public bool IsDown
    {
        get
        {
            lock (_lock)
            {
                return _down;
            }
        }
    }

    /// <summary>Adds a listener that Kestrel bound (open): closed at once if the collector is down.</summary>
    public void Add(SwitchableListener listener)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
            if (_down)
            {
                listener.Close();
            }
        }
    }

    /// <summary>Closes every port, then resets every connection. Does nothing if already down.</summary>
    /// <returns>Whether the collector was up.</returns>
    public bool GoDown()
    {
        int dropped;
        lock (_lock)
        {
            if (_down)
            {
                return false;
            }

            _down = true;

            // Ports first, so that no connection arrives between the reset and the close; the registry's flag catches
            // one accepted just before its port closed.
            foreach (SwitchableListener listener in _listeners)
            {
                listener.Close();
            }

            dropped = _connections.RefuseAndAbortAll();
        }

        _onDown(dropped);
        return true;
    }

    /// <summary>Opens every port again. Does nothing if up.</summary>
    /// <returns>Whether the collector was down.</returns>
    /// <exception cref="IOException">A port could not be bound again (another process took it); the collector stays down.</exception>
    public bool ComeBack()
    {
        lock (_lock)
        {
            if (!_down)
            {
                return false;
            }

            try
            {
                foreach (SwitchableListener listener in _listeners)
                {
                    listener.Open();
                }
            }
            catch (Exception e) when (e is AddressInUseException or SocketException)
            {
                // All or nothing: a collector half up would be a fault of its own.
                foreach (SwitchableListener listener in _listeners)
                {
                    listener.Close();
                }

                throw new IOException($"The collector could not come back: {e.Message}", e);
            }

            _connections.Admit();
            _down = false;
            return true;
        }
    }
}
