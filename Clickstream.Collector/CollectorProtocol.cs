namespace Clickstream.Collector;

/// <summary>The Raccoon protocol a request arrived on.</summary>
public enum CollectorProtocol
{
    /// <summary><c>POST /api/v1/events</c>, <c>application/proto</c> or <c>application/json</c>.</summary>
    Rest,

    /// <summary>A message on a WebSocket opened with <c>GET /api/v1/events</c>: binary protobuf or text JSON.</summary>
    WebSocket,

    /// <summary>A unary call to <c>raystack.raccoon.v1beta1.EventService/SendEvent</c>.</summary>
    Grpc,
}
