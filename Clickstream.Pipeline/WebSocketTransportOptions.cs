namespace Clickstream.Pipeline;

/// <summary>Settings of the WebSocket transport (<see cref="ClickstreamTransport.WebSocket"/>).</summary>
public sealed class WebSocketTransportOptions
{
    /// <summary>Batches sent on the connection and not yet acknowledged, at most. The default value is 8.</summary>
    public int MaxInFlightBatches { get; set; } = 8;

    /// <summary>A batch whose ack has not come by then counts as failed and is sent again. The default value is 10 seconds.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the client pings the server to keep the connection alive. The default value is 30 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay before reconnecting after the connection failed; doubled per failure, with full jitter. The default value is 1 second.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The cap of the reconnect delay. The default value is 30 seconds.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Send Raccoon JSON in text frames instead of protobuf in binary frames. The default value is <see langword="false"/>.</summary>
    public bool UseTextFrames { get; set; }

    internal WebSocketTransportOptions Clone() => (WebSocketTransportOptions)MemberwiseClone();
}
