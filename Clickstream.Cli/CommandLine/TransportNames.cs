using Clickstream.Collector;
using Clickstream.Pipeline;

namespace Clickstream.Cli.CommandLine;

/// <summary>The <c>--transport</c> values, and where an embedded collector listens for each.</summary>
internal static class TransportNames
{
    /// <summary>The value placeholder of <c>--transport</c> in the help.</summary>
    public const string Describe = "http|http-json|grpc|websocket";

    public static IReadOnlyDictionary<string, ClickstreamTransport> Choices { get; } = new Dictionary<string, ClickstreamTransport>(StringComparer.OrdinalIgnoreCase)
    {
        ["http"] = ClickstreamTransport.Http,
        ["http-json"] = ClickstreamTransport.HttpJson,
        ["grpc"] = ClickstreamTransport.Grpc,
        ["websocket"] = ClickstreamTransport.WebSocket,
    };

    /// <summary>Adds an error naming <paramref name="option"/> to <paramref name="checks"/> when <paramref name="name"/> is not a transport.</summary>
    public static Checks Check(this Checks checks, string option, string name) =>
        checks.That(Choices.ContainsKey(name), $"{option} must be one of {Describe}; was '{name}'.");

    public static ClickstreamTransport Parse(string name) => Choices[name];

    public static string NameOf(ClickstreamTransport transport)
    {
        foreach (var (name, value) in Choices)
        {
            if (value == transport)
            {
                return name;
            }
        }

        return transport.ToString();
    }

    /// <summary>The collector's address for <paramref name="transport"/>; its gRPC listener must be on for gRPC.</summary>
    public static Uri EndpointOf(RaccoonCollector collector, ClickstreamTransport transport) => transport switch
    {
        ClickstreamTransport.Grpc => collector.GrpcAddress ?? throw new InvalidOperationException("The collector has no gRPC listener."),
        ClickstreamTransport.WebSocket => collector.WebSocketEndpoint,
        _ => collector.EventsEndpoint,
    };
}
