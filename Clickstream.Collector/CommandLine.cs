using System.Globalization;

namespace Clickstream.Collector;

/// <summary>
/// Parses the standalone collector's arguments: <c>--port N</c>, <c>--host ADDRESS</c>, <c>--grpc-port N</c>,
/// <c>--require-identity</c>, <c>--bearer-token T</c>, <c>--help</c>.
/// </summary>
internal static class CommandLine
{
    public const string Usage =
        """
        Usage: Clickstream.Collector [--port N] [--host ADDRESS] [--grpc-port N] [--require-identity] [--bearer-token T]

        A Raccoon-compatible collector. On --port: POST /api/v1/events (REST, application/proto or application/json),
        GET /api/v1/events (WebSocket: binary protobuf or text JSON messages), GET /ping. On --grpc-port: gRPC
        raystack.raccoon.v1beta1.EventService/SendEvent. Clients are identified by X-User-ID and X-User-Group.
          --port N             REST and WebSocket TCP port, 0 to 65535 (default 8080, Raccoon's; 0 = any free port)
          --host ADDRESS       IP address to listen on, or localhost (default 127.0.0.1; 0.0.0.0 = all interfaces)
          --grpc-port N        also serve gRPC on this TCP port (Raccoon's is 8081; 0 = any free port; default off)
          --require-identity   refuse requests and connections without an X-User-ID header (REST and WebSocket 401)
          --bearer-token T     refuse requests and connections without "Authorization: Bearer T" (401, gRPC Unauthenticated)
          -h, --help           show this help
        """;

    /// <summary>Raccoon's own default port, more useful than a random one for a server started by hand.</summary>
    public const int DefaultPort = 8080;

    /// <summary>The result of parsing: options to run with, a request for help, or an error to report.</summary>
    public sealed record Result(CollectorOptions? Options, bool ShowHelp, string? Error);

    public static Result Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new CollectorOptions { Port = DefaultPort, KeepEvents = false };
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? value = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }

            switch (name)
            {
                case "-h" or "--help" when value is null:
                    return new Result(null, ShowHelp: true, Error: null);
                case "--port" or "--grpc-port":
                    if (!TryTakeValue(args, ref i, ref value, name, out string? error))
                    {
                        return Failure(error);
                    }

                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                    {
                        return Failure($"{name} must be a number from 0 to 65535, not '{value}'.");
                    }

                    if (name == "--port")
                    {
                        options.Port = port;
                    }
                    else
                    {
                        options.GrpcPort = port;
                    }

                    break;
                case "--require-identity":
                    if (value is not null)
                    {
                        return Failure("--require-identity takes no value.");
                    }

                    options.RequireIdentity = true;
                    break;
                case "--bearer-token":
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    options.BearerToken = value;
                    break;
                case "--host":
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    options.Host = value!;
                    break;
                default:
                    return Failure($"Unknown argument '{arg}'.");
            }
        }

        // The same validation StartAsync does, so that a bad host is a usage error (exit code 2), not a crash.
        IReadOnlyList<string> invalid = CollectorSettings.Validate(options, out _);
        if (invalid.Count != 0)
        {
            return Failure(string.Join(" ", invalid));
        }

        return new Result(options, ShowHelp: false, Error: null);
    }

    private static bool TryTakeValue(IReadOnlyList<string> args, ref int i, ref string? value, string name, out string? error)
    {
        error = null;
        if (value is not null)
        {
            return true;
        }

        if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            value = args[++i];
            return true;
        }

        error = $"{name} needs a value.";
        return false;
    }

    private static Result Failure(string? error) => new(null, ShowHelp: false, Error: error);
}
