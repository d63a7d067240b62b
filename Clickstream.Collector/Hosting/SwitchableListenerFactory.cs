using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clickstream.Collector.Hosting;

/// <summary>Kestrel's transport for the collector: TCP sockets whose ports <see cref="OutageSwitch"/> can close and reopen.</summary>
internal sealed class SwitchableListenerFactory(OutageSwitch outage) : IConnectionListenerFactory
{
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint)
        {
            throw new NotSupportedException($"The collector listens on IP endpoints only, not {endpoint}.");
        }

        var contexts = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions(), NullLogger.Instance);
        var listener = new SwitchableListener(endpoint, contexts);
        try
        {
            listener.Open();
        }
        catch
        {
            contexts.Dispose();
            throw;
        }

        outage.Add(listener);
        return ValueTask.FromResult<IConnectionListener>(listener);
    }
}
