using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Clickstream.Collector;

/// <summary>A validated copy of <see cref="CollectorOptions"/>, so later edits to the options do not leak in.</summary>
internal sealed class CollectorSettings
{
    // RFC 9110 tchar, besides letters and digits: what an HTTP header name may be made of.
    private const string HeaderNameSymbols = "!#$%&'*+-.^_`|~";

    private CollectorSettings(CollectorOptions options, IPAddress address)
    {
        Address = address;
        Port = options.Port;
        GrpcPort = options.GrpcPort;
        KeepEvents = options.KeepEvents;
        TimeProvider = options.TimeProvider;
        UserIdHeader = options.UserIdHeader;
        UserGroupHeader = options.UserGroupHeader;
        MaxConnections = options.MaxConnections;
        PingInterval = options.PingInterval;
        PongTimeout = options.PongTimeout;
        RequireIdentity = options.RequireIdentity;
        BearerToken = options.BearerToken;
        ServerCertificate = options.ServerCertificate;
        MaxRequestBytes = options.MaxRequestBytes;
    }

    public IPAddress Address { get; }

    public int Port { get; }

    public int? GrpcPort { get; }

    public bool KeepEvents { get; }

    public TimeProvider TimeProvider { get; }

    public string UserIdHeader { get; }

    public string UserGroupHeader { get; }

    public int MaxConnections { get; }

    public TimeSpan PingInterval { get; }

    public TimeSpan PongTimeout { get; }

    public bool RequireIdentity { get; }

    public string? BearerToken { get; }

    public X509Certificate2? ServerCertificate { get; }

    public int MaxRequestBytes { get; }

    /// <summary>Validates <paramref name="options"/> and copies them.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public static CollectorSettings From(CollectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = Validate(options, out IPAddress? address);
        if (errors.Count != 0)
        {
            throw new ArgumentException("Invalid collector options: " + string.Join(" ", errors), nameof(options));
        }

        return new CollectorSettings(options, address!);
    }

    /// <summary>Every problem with <paramref name="options"/>, one sentence each; empty when they are valid.</summary>
    public static IReadOnlyList<string> Validate(CollectorOptions options, out IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        address = null;
        if (string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(options.Host, out address))
        {
            errors.Add($"{nameof(CollectorOptions.Host)} must be an IP address or 'localhost' (was '{options.Host}').");
        }

        ValidatePort(errors, nameof(CollectorOptions.Port), options.Port);
        if (options.GrpcPort is { } grpcPort)
        {
            ValidatePort(errors, nameof(CollectorOptions.GrpcPort), grpcPort);
            if (grpcPort != 0 && grpcPort == options.Port)
            {
                errors.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{nameof(CollectorOptions.GrpcPort)} must differ from {nameof(CollectorOptions.Port)}: gRPC has a listener of its own (both were {grpcPort})."));
            }
        }

        if (options.TimeProvider is null)
        {
            errors.Add($"{nameof(CollectorOptions.TimeProvider)} must not be null.");
        }

        ValidateHeaderName(errors, nameof(CollectorOptions.UserIdHeader), options.UserIdHeader);
        ValidateHeaderName(errors, nameof(CollectorOptions.UserGroupHeader), options.UserGroupHeader);
        if (options.MaxConnections < 1)
        {
            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{nameof(CollectorOptions.MaxConnections)} must be at least 1 (was {options.MaxConnections})."));
        }

        if (options.PingInterval < TimeSpan.Zero)
        {
            errors.Add($"{nameof(CollectorOptions.PingInterval)} must be positive, or zero for no pings (was {options.PingInterval}).");
        }

        if (options.PongTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(CollectorOptions.PongTimeout)} must be positive (was {options.PongTimeout}).");
        }

        if (options.BearerToken is { } token && (token.Length == 0 || token.Any(char.IsWhiteSpace)))
        {
            errors.Add($"{nameof(CollectorOptions.BearerToken)} must be null, or a token without white space.");
        }

        if (options.MaxRequestBytes < 1)
        {
            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{nameof(CollectorOptions.MaxRequestBytes)} must be at least 1 (was {options.MaxRequestBytes})."));
        }

        if (options.ServerCertificate is { HasPrivateKey: false })
        {
            errors.Add($"{nameof(CollectorOptions.ServerCertificate)} must come with its private key.");
        }

        return errors;
    }

    private static void ValidatePort(List<string> errors, string name, int port)
    {
        if (port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{name} must be between {IPEndPoint.MinPort} and {IPEndPoint.MaxPort}, 0 for any free port (was {port})."));
        }
    }

    private static void ValidateHeaderName(List<string> errors, string name, string? header)
    {
        if (string.IsNullOrEmpty(header) || !header.All(c => char.IsAsciiLetterOrDigit(c) || HeaderNameSymbols.Contains(c, StringComparison.Ordinal)))
        {
            errors.Add($"{name} must be an HTTP header name (was '{header}').");
        }
    }
}
