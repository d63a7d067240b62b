namespace Clickstream.Collector;

/// <summary>
/// The collector's command-line flags, defined once: their names, value placeholders and help. The standalone
/// collector's <see cref="CollectorCommandLine.Usage"/> is written from <see cref="All"/>, and <c>clickstream collector</c>
/// declares its options from these constants (attributes take constants only) and hands the values to
/// <see cref="CollectorCommandLine.Parse"/>, so both read and check every flag the same way.
/// </summary>
public static class CollectorFlags
{
    public const string Port = "--port";
    public const string PortValue = "N";
    public const string PortHelp = "REST and WebSocket TCP port, 0 to 65535 (default 8080, Raccoon's; 0 = any free port)";

    public const string Host = "--host";
    public const string HostValue = "ADDRESS";
    public const string HostHelp = "IP address to listen on, or localhost (default 127.0.0.1; 0.0.0.0 = all interfaces)";

    public const string GrpcPort = "--grpc-port";
    public const string GrpcPortValue = "N";
    public const string GrpcPortHelp = "also serve gRPC on this TCP port (Raccoon's is 8081; 0 = any free port; default off)";

    public const string RequireIdentity = "--require-identity";
    public const string RequireIdentityHelp = "refuse requests and connections without an X-User-ID header (REST and WebSocket 401)";

    public const string BearerToken = "--bearer-token";
    public const string BearerTokenValue = "T";
    public const string BearerTokenHelp = "refuse requests and connections without \"Authorization: Bearer T\" (401, gRPC Unauthenticated)";

    public const string MaxRequestBytes = "--max-request-bytes";
    public const string MaxRequestBytesValue = "N";
    public const string MaxRequestBytesHelp = "largest REST body or WebSocket message, in bytes (default 4194304, grpc-go's default receive limit); larger: REST 413, WebSocket close 1009";

    public const string FailRate = "--fail-rate";
    public const string RateValue = "R";
    public const string FailRateHelp = "answer a share R with an error status: --fail-status, STATUS_ERROR (gRPC: its mapped status)";

    public const string FailStatus = "--fail-status";
    public const string FailStatusValue = "CODE";
    public const string FailStatusHelp = "the status of --fail-rate failures, 400 to 599 (default 500; e.g. 503, 429, 400)";

    public const string RetryAfter = "--retry-after";
    public const string RetryAfterValue = "S|DATE";
    public const string RetryAfterHelp = "give --fail-rate failures a Retry-After: delta-seconds, or an HTTP-date such as \"Wed, 21 Oct 2026 07:28:00 GMT\" (gRPC: retry-after and grpc-retry-pushback-ms trailers)";

    public const string SoftErrorRate = "--soft-error-rate";
    public const string SoftErrorRateHelp = "answer a share R with 200 and STATUS_ERROR, CODE_INTERNAL_ERROR";

    public const string ResetRate = "--reset-rate";
    public const string ResetRateHelp = "reset the connection of a share R instead of answering (WebSocket: dropped mid-batch)";

    public const string TruncateRate = "--truncate-rate";
    public const string TruncateRateHelp = "answer a share R with half of the answer, then close the connection";

    public const string MalformedRate = "--malformed-rate";
    public const string MalformedRateHelp = "answer a share R with 200 and bytes that decode neither as protobuf nor as JSON";

    public const string Seed = "--seed";
    public const string SeedValue = "N";
    public const string SeedHelp = "draw from Random(N): the same sequence of faults on every run (default: unseeded)";

    public const string Delay = "--delay";
    public const string DurationValue = "DURATION";
    public const string DelayHelp = "hold every answer this long: latency, slow acks (WebSocket and gRPC too)";

    public const string DownEvery = "--down-every";
    public const string DownEveryHelp = "go down every DURATION (ports closed: connects refused, /ping too; connections reset)";

    public const string DownFor = "--down-for";
    public const string DownForHelp = "... for DURATION, then come back on the same ports; both or neither";

    /// <summary>The server flags, then the fault flags, in the order of the help.</summary>
    public static IReadOnlyList<Flag> All { get; } =
    [
        new(Port, PortValue, PortHelp, IsFault: false),
        new(Host, HostValue, HostHelp, IsFault: false),
        new(GrpcPort, GrpcPortValue, GrpcPortHelp, IsFault: false),
        new(RequireIdentity, null, RequireIdentityHelp, IsFault: false),
        new(BearerToken, BearerTokenValue, BearerTokenHelp, IsFault: false),
        new(MaxRequestBytes, MaxRequestBytesValue, MaxRequestBytesHelp, IsFault: false),
        new(FailRate, RateValue, FailRateHelp, IsFault: true),
        new(FailStatus, FailStatusValue, FailStatusHelp, IsFault: true),
        new(RetryAfter, RetryAfterValue, RetryAfterHelp, IsFault: true),
        new(SoftErrorRate, RateValue, SoftErrorRateHelp, IsFault: true),
        new(ResetRate, RateValue, ResetRateHelp, IsFault: true),
        new(TruncateRate, RateValue, TruncateRateHelp, IsFault: true),
        new(MalformedRate, RateValue, MalformedRateHelp, IsFault: true),
        new(Seed, SeedValue, SeedHelp, IsFault: true),
        new(Delay, DurationValue, DelayHelp, IsFault: true),
        new(DownEvery, DurationValue, DownEveryHelp, IsFault: true),
        new(DownFor, DurationValue, DownForHelp, IsFault: true),
    ];

    /// <summary>One flag.</summary>
    /// <param name="Name">The flag, with its dashes.</param>
    /// <param name="Value">Its value's placeholder, or null for a flag without a value.</param>
    /// <param name="Help">One line of help.</param>
    /// <param name="IsFault">Whether it asks for a fault (off by default) rather than setting up the server.</param>
    public sealed record Flag(string Name, string? Value, string Help, bool IsFault)
    {
        /// <summary>The flag with its value's placeholder, as the help lists it.</summary>
        public string Usage => Value is null ? Name : $"{Name} {Value}";
    }
}
