using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Clickstream.Collector.Hosting;

/// <summary>
/// A Kestrel listener on a TCP socket that can close its port and open it again while Kestrel keeps running: while
/// closed, a client's connect is refused by the OS, as when the server is down. Kestrel's accept loop waits meanwhile.
/// </summary>
/// <remarks>
/// Kestrel cannot stop listening on one port and start again; its socket transport's own listener is the same few lines
/// (bind, listen, accept, wrap with <see cref="SocketConnectionContextFactory"/>) without the switch.
/// </remarks>
internal sealed class SwitchableListener : IConnectionListener
{
    private const int Backlog = 512;

    private readonly SocketConnectionContextFactory _contexts;
    private readonly Lock _lock = new();
    private Socket? _socket;
    private bool _unbound;

    // Completed while the port is open (or the listener unbound); replaced by a pending one when the port closes.
    private TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SwitchableListener(EndPoint endpoint, SocketConnectionContextFactory contexts)
    {
        EndPoint = endpoint;
        _contexts = contexts;
    }

    /// <summary>The endpoint, with the port actually bound once open: a port chosen by the OS is kept when it reopens.</summary>
    public EndPoint EndPoint { get; private set; }

    /// <summary>Binds and listens on <see cref="EndPoint"/>, unless already open or unbound.</summary>
    /// <exception cref="AddressInUseException">The port is taken.</exception>
    /// <exception cref="SocketException">It could not be bound for another reason.</exception>
    public void Open()
    {
        lock (_lock)
        {
            if (_socket is not null || _unbound)
            {
                return;
            }

            var ip = (IPEndPoint)EndPoint;
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // As Kestrel: the IPv6 wildcard takes IPv4 too.
                if (ip.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }

                socket.Bind(ip);
                socket.Listen(Backlog);
            }
            catch (SocketException e)
            {
                socket.Dispose();

                // The exception Kestrel's own transport throws, so that a taken port reads the same with this listener.
                throw e.SocketErrorCode == SocketError.AddressAlreadyInUse ? new AddressInUseException(e.Message, e) : e;
            }

            EndPoint = socket.LocalEndPoint!;
            _socket = socket;
            _opened.TrySetResult();
        }
    }

    /// <summary>Closes the port: new connects are refused until <see cref="Open"/>. Accepted connections are left alone.</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (_socket is null)
            {
                return;
            }

            _socket.Dispose();
            _socket = null;
            if (!_unbound)
            {
                _opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket? socket;
            Task opened;
            lock (_lock)
            {
                if (_unbound)
                {
                    // Null tells Kestrel that this listener is done.
                    return null;
                }

                socket = _socket;
                opened = _opened.Task;
            }

            if (socket is null)
            {
                await opened.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                Socket accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                accepted.NoDelay = true;
                return _contexts.Create(accepted);
            }
            catch (ObjectDisposedException)
            {
                // Closed (down) or unbound (stopping): the loop looks which.
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                // Likewise.
            }
            catch (SocketException)
            {
                // Reset while in the backlog: accept the next one.
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _unbound = true;
            _socket?.Dispose();
            _socket = null;
            _opened.TrySetResult();
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);

        // Kestrel disposes a listener once its connections are done: the buffers they used can go.
        _contexts.Dispose();
    }
}
