namespace Clickstream.Collector.Rest;

/// <summary>The two bodies Raccoon's REST endpoint speaks, chosen by the request's exact Content-Type.</summary>
internal enum WireFormat
{
    /// <summary><c>application/proto</c>: binary protobuf.</summary>
    Proto,

    /// <summary><c>application/json</c>: Go encoding/json of the protobuf structs (see RaccoonJson).</summary>
    Json,
}
