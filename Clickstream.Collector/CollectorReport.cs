using System.Globalization;

namespace Clickstream.Collector;

/// <summary>
/// What a collector run from a command line prints: where it listens, and what it received when it stops. Shared by
/// the standalone collector and the <c>clickstream collector</c> command.
/// </summary>
public static class CollectorReport
{
    /// <summary>The endpoints of <paramref name="collector"/>, its access rules and the faults it was started with.</summary>
    public static IEnumerable<string> Listening(RaccoonCollector collector, CollectorOptions options, CollectorCommandLine.FaultFlags? faults)
    {
        yield return "Raccoon collector listening:";
        yield return $"  REST       POST {collector.EventsEndpoint} (application/proto, application/json)";
        yield return $"  WebSocket  {collector.WebSocketEndpoint} (binary protobuf, text JSON)";
        if (collector.GrpcAddress is { } grpcAddress)
        {
            yield return $"  gRPC       {grpcAddress} raystack.raccoon.v1beta1.EventService/SendEvent";
        }

        yield return $"  health     GET {collector.BaseAddress}ping";
        if (options.RequireIdentity || options.BearerToken is not null)
        {
            yield return $"  requires   {(options.RequireIdentity ? "X-User-ID " : string.Empty)}{(options.BearerToken is null ? string.Empty : "Authorization: Bearer <token>")}".TrimEnd();
        }

        if (faults is { IsEmpty: false })
        {
            yield return "Faults:";
            foreach (string line in faults.Describe())
            {
                yield return $"  {line}";
            }
        }
    }

    /// <summary>The error for a port that could not be listened on.</summary>
    public static string CannotListen(CollectorOptions options, IOException exception)
    {
        string ports = options.GrpcPort is { } grpcPort ? $"{options.Port} and {grpcPort}" : $"{options.Port}";
        return $"cannot listen on {options.Host} port {ports}: {exception.Message}";
    }

    /// <summary>The totals, when the collector stops.</summary>
    public static IEnumerable<string> Stopped(CollectorStats stats)
    {
        yield return string.Create(
            CultureInfo.InvariantCulture,
            $"Stopping: {stats.Requests} requests ({stats.AcceptedRequests} accepted, {stats.RejectedRequests} rejected, {stats.FailedRequests} failed), {stats.Events} events.");
        IReadOnlyDictionary<FaultKind, long> injected = stats.FaultsByKind();
        if (injected.Count != 0)
        {
            yield return $"Faults injected: {string.Join(", ", injected.Select(fault => $"{fault.Value} {fault.Key}"))}.";
        }
    }
}
