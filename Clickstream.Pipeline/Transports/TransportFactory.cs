namespace Clickstream.Pipeline.Transports;

/// <summary>Makes the transport the options name; the egress controller only ever sees <see cref="IEventTransport"/>.</summary>
internal static class TransportFactory
{
    public static IEventTransport Create(PipelineSettings settings) => settings.Transport switch
    {
        ClickstreamTransport.Http => new HttpTransport(settings, json: false),
        ClickstreamTransport.HttpJson => new HttpTransport(settings, json: true),
        ClickstreamTransport.Grpc => new GrpcTransport(settings),
        ClickstreamTransport.WebSocket => new WebSocketTransport(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Transport, "Unknown transport."),
    };
}
