namespace Clickstream.Collector.Wire;

/// <summary>
/// The two encodings Raccoon speaks: on REST chosen by the request's exact Content-Type, on WebSocket by the frame type
/// (binary or text). gRPC is always protobuf.
/// </summary>
internal enum WireFormat
{
    /// <summary><c>application/proto</c>: binary protobuf.</summary>
    Proto,

    /// <summary><c>application/json</c>: Go encoding/json of the protobuf structs (see RaccoonJson).</summary>
    Json,
}
