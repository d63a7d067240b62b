namespace Clickstream.Collector;

/// <summary>The collector's defaults and fixed paths, in one place.</summary>
internal static class CollectorDefaults
{
    /// <summary>Loopback only: a test collector should not be reachable from the network.</summary>
    public const string Host = "127.0.0.1";

    /// <summary>0 lets the OS choose a free port.</summary>
    public const int Port = 0;

    public const bool KeepEvents = true;

    /// <summary>Raccoon's events path: POST for REST, GET for the WebSocket upgrade.</summary>
    public const string EventsPath = "/api/v1/events";

    /// <summary>Raccoon's health check path.</summary>
    public const string PingPath = "/ping";

    /// <summary>The header naming the connection's user (Raccoon's <c>SERVER_WEBSOCKET_CONN_ID_HEADER</c>).</summary>
    public const string UserIdHeader = "X-User-ID";

    /// <summary>The header naming the user's group (Raccoon's <c>SERVER_WEBSOCKET_CONN_GROUP_HEADER</c>).</summary>
    public const string UserGroupHeader = "X-User-Group";

    /// <summary>The group of a client that sends none (Raccoon's <c>SERVER_WEBSOCKET_CONN_GROUP_DEFAULT</c>).</summary>
    public const string DefaultUserGroup = "--default--";

    /// <summary>Raccoon's <c>SERVER_WEBSOCKET_MAX_CONN</c>.</summary>
    public const int MaxConnections = 30_000;

    /// <summary>
    /// The largest REST body or WebSocket message: 4 MiB, the only request limit a Raccoon deployment has by default,
    /// grpc-go's default receive limit on its gRPC server. Raccoon's REST handler reads the whole body (ReadAll) and its
    /// gorilla WebSocket sets no read limit; a bound is needed here all the same, so it is the gRPC one for all three.
    /// </summary>
    public const int MaxRequestBytes = 4 * 1024 * 1024;

    /// <summary>Raccoon's <c>SERVER_WEBSOCKET_PING_INTERVAL_MS</c>.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(30);

    /// <summary>Raccoon's <c>SERVER_WEBSOCKET_PONG_WAIT_INTERVAL_MS</c>.</summary>
    public static readonly TimeSpan PongTimeout = TimeSpan.FromSeconds(60);
}
