namespace Clickstream.Pipeline;

/// <summary>How the pipeline talks to Raccoon. Every transport gives the same guarantees.</summary>
public enum ClickstreamTransport
{
    /// <summary>REST, <c>POST</c> with an <c>application/proto</c> body. <see cref="ClickstreamOptions.Endpoint"/> is <c>http(s)://host:8080/api/v1/events</c>.</summary>
    Http,

    /// <summary>REST with Raccoon's <c>application/json</c> body. Same endpoint as <see cref="Http"/>.</summary>
    HttpJson,

    /// <summary>gRPC <c>EventService/SendEvent</c> over HTTP/2. <see cref="ClickstreamOptions.Endpoint"/> is <c>http(s)://host:8081</c>.</summary>
    Grpc,

    /// <summary>One long-lived WebSocket, several batches in flight. <see cref="ClickstreamOptions.Endpoint"/> is <c>ws(s)://host:8080/api/v1/events</c>.</summary>
    WebSocket,
}
