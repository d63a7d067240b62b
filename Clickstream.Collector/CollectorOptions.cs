using System.Security.Cryptography.X509Certificates;

namespace Clickstream.Collector;

/// <summary>Options of a <see cref="RaccoonCollector"/>; read once by <see cref="RaccoonCollector.StartAsync"/>.</summary>
public sealed class CollectorOptions
{
    /// <summary>
    /// The IP address to listen on, or <c>localhost</c> (taken as 127.0.0.1). <c>0.0.0.0</c> or <c>::</c> listen on
    /// every interface. The default value is <c>127.0.0.1</c>.
    /// </summary>
    public string Host { get; set; } = CollectorDefaults.Host;

    /// <summary>
    /// The TCP port of REST and WebSocket (HTTP/1.1), 0 to 65535; 0 lets the OS choose a free port. The default value is 0.
    /// </summary>
    public int Port { get; set; } = CollectorDefaults.Port;

    /// <summary>
    /// The TCP port of gRPC (HTTP/2, a listener of its own as Raccoon's 8081), 0 for a free port, or null for no gRPC.
    /// The default value is null.
    /// </summary>
    public int? GrpcPort { get; set; }

    /// <summary>
    /// Whether to keep what was received: each accepted event's type and bytes, and each accepted request's
    /// <c>req_guid</c> and origin, for <see cref="CollectorStats.ReceivedEvents"/>, <see cref="CollectorStats.RequestIds"/>
    /// and <see cref="CollectorStats.ReceivedRequests"/>.
    /// Turn it off for benchmarks and long runs: memory then stays flat and only counters are kept.
    /// The default value is <see langword="true"/>.
    /// </summary>
    public bool KeepEvents { get; set; } = CollectorDefaults.KeepEvents;

    /// <summary>
    /// The clock for the responses' <c>sent_time</c> and for the faults that involve time:
    /// <see cref="CollectorFaults.Delay"/>, <see cref="CollectorFaults.ScheduleOutages"/> and <see cref="RetryAfter.DateIn"/>.
    /// The default value is <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// The header (or gRPC metadata key) that names the client, half of its identity. A second WebSocket connection with
    /// the identity of an open one is refused. The default value is <c>X-User-ID</c>.
    /// </summary>
    public string UserIdHeader { get; set; } = CollectorDefaults.UserIdHeader;

    /// <summary>
    /// The header (or gRPC metadata key) that names the client's group, the other half of its identity; a client without
    /// it is in the group <c>--default--</c>. The default value is <c>X-User-Group</c>.
    /// </summary>
    public string UserGroupHeader { get; set; } = CollectorDefaults.UserGroupHeader;

    /// <summary>
    /// How many WebSocket connections may be open at once; one more is refused with CODE_MAX_CONNECTION_LIMIT_REACHED.
    /// At least 1. The default value is 30000 (Raccoon's).
    /// </summary>
    public int MaxConnections { get; set; } = CollectorDefaults.MaxConnections;

    /// <summary>
    /// How long a WebSocket connection may go without receiving anything before the server sends a Ping frame, or
    /// <see cref="TimeSpan.Zero"/> for no pings. The default value is 30 seconds (Raccoon's).
    /// </summary>
    public TimeSpan PingInterval { get; set; } = CollectorDefaults.PingInterval;

    /// <summary>
    /// How long the server waits for the Pong that answers its Ping before it aborts the connection. Positive.
    /// The default value is 60 seconds (Raccoon's read deadline).
    /// </summary>
    public TimeSpan PongTimeout { get; set; } = CollectorDefaults.PongTimeout;

    /// <summary>
    /// Whether every request (REST, gRPC) and WebSocket connection must name its client with <see cref="UserIdHeader"/>.
    /// Raccoon itself requires it only on gRPC. The default value is <see langword="false"/>.
    /// </summary>
    public bool RequireIdentity { get; set; }

    /// <summary>
    /// A token every request and WebSocket connection must present as <c>Authorization: Bearer &lt;token&gt;</c>, or null
    /// to accept any. Raccoon itself checks no token (a gateway in front of it does). The default value is null.
    /// </summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// The certificate, with its private key, to serve HTTPS (https, wss) on both listeners, or null for plain HTTP.
    /// The default value is null.
    /// </summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>
    /// The largest REST request body or WebSocket message, in bytes, at least 1. A larger REST body is answered 413 with a
    /// STATUS_ERROR, CODE_BAD_REQUEST body naming the limit; a larger WebSocket message closes the connection with 1009
    /// (message too big). The default value is 4 MiB (4194304): grpc-go's default receive limit, the one a Raccoon
    /// deployment has on gRPC (its REST and WebSocket servers have none).
    /// </summary>
    public int MaxRequestBytes { get; set; } = CollectorDefaults.MaxRequestBytes;
}
