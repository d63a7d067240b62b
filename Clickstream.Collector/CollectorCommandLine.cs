using System.Globalization;

namespace Clickstream.Collector;

/// <summary>
/// Parses the collector's arguments: <c>--port N</c>, <c>--host ADDRESS</c>, <c>--grpc-port N</c>,
/// <c>--require-identity</c>, <c>--bearer-token T</c>, the fault flags (see <see cref="Usage"/>), <c>--help</c>.
/// Public so that a host of its own (the <c>clickstream collector</c> command) reads the same flags the same way.
/// </summary>
public static class CollectorCommandLine
{
    /// <summary>The standalone collector's help, its flags written from <see cref="CollectorFlags.All"/>.</summary>
    public static string Usage { get; } = WriteUsage();

    /// <summary>Raccoon's own default port, more useful than a random one for a server started by hand.</summary>
    public const int DefaultPort = 8080;

    // More than any test or demo needs, and far from TimeSpan's limits.
    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The status of <c>--fail-rate</c> failures when <c>--fail-status</c> is not given.</summary>
    public const int DefaultFailStatus = 500;

    /// <summary>The result of parsing: options and faults to run with, a request for help, or an error to report.</summary>
    public sealed record Result(CollectorOptions? Options, bool ShowHelp, string? Error, FaultFlags? Faults = null);

    /// <summary>The faults the flags ask for, applied once the collector runs.</summary>
    /// <param name="Rates">The random faults, in the order of the flags' table in <see cref="Usage"/>.</param>
    /// <param name="Seed">The seed of the draws, or null.</param>
    /// <param name="Delay">The delay of every answer.</param>
    /// <param name="Outages">The outage schedule, or null.</param>
    public sealed record FaultFlags(IReadOnlyList<FaultRate> Rates, int? Seed, TimeSpan Delay, OutageSchedule? Outages)
    {
        /// <summary>Whether no fault was asked for.</summary>
        public bool IsEmpty => Rates.Count == 0 && Delay == TimeSpan.Zero && Outages is null;

        /// <summary>Starts the faults on a running collector's <see cref="RaccoonCollector.Faults"/>.</summary>
        /// <param name="faults">The collector's faults.</param>
        public void ApplyTo(CollectorFaults faults)
        {
            ArgumentNullException.ThrowIfNull(faults);
            faults.FailRandomly(Rates, Seed);
            faults.Delay = Delay;
            faults.ScheduleOutages(Outages);
        }

        /// <summary>One line per fault, for the console.</summary>
        public IEnumerable<string> Describe()
        {
            foreach (FaultRate rate in Rates)
            {
                string what = rate.Fault.Kind == FaultKind.ErrorStatus
                    ? string.Create(CultureInfo.InvariantCulture, $"status {rate.Fault.StatusCode}{(rate.Fault.RetryAfter is { } retryAfter ? $", Retry-After: {retryAfter}" : string.Empty)}")
                    : rate.Fault.Kind.ToString();
                yield return string.Create(CultureInfo.InvariantCulture, $"{rate.Rate:P1} of requests: {what}");
            }

            if (Seed is { } seed)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"seed {seed}");
            }

            if (Delay > TimeSpan.Zero)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"every answer delayed {Delay.TotalMilliseconds:F0} ms");
            }

            if (Outages is { } outages)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"down for {outages.Duration} every {outages.Period}");
            }
        }
    }

    /// <summary>Reads <paramref name="args"/>; an unknown flag or a bad value is an <see cref="Result.Error"/>, not an exception.</summary>
    /// <param name="args">The arguments, each flag followed by its value or as <c>--flag=value</c>.</param>
    /// <returns>What to run, or the help to show, or the error to report.</returns>
    public static Result Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new CollectorOptions { Port = DefaultPort, KeepEvents = false };
        var faults = new FaultArguments();
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
                case CollectorFlags.Port or CollectorFlags.GrpcPort:
                    if (!TryTakeValue(args, ref i, ref value, name, out string? error))
                    {
                        return Failure(error);
                    }

                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                    {
                        return Failure($"{name} must be a number from 0 to 65535, not '{value}'.");
                    }

                    if (name == CollectorFlags.Port)
                    {
                        options.Port = port;
                    }
                    else
                    {
                        options.GrpcPort = port;
                    }

                    break;
                case CollectorFlags.RequireIdentity:
                    if (value is not null)
                    {
                        return Failure("--require-identity takes no value.");
                    }

                    options.RequireIdentity = true;
                    break;
                case CollectorFlags.BearerToken:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    options.BearerToken = value;
                    break;
                case CollectorFlags.MaxRequestBytes:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int maxRequestBytes) || maxRequestBytes < 1)
                    {
                        return Failure($"{name} must be a number of bytes from 1 to {int.MaxValue}, not '{value}'.");
                    }

                    options.MaxRequestBytes = maxRequestBytes;
                    break;
                case CollectorFlags.Host:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    options.Host = value!;
                    break;
                case CollectorFlags.FailRate or CollectorFlags.SoftErrorRate or CollectorFlags.ResetRate or CollectorFlags.TruncateRate or CollectorFlags.MalformedRate:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double rate) || rate > 1)
                    {
                        return Failure($"{name} must be a share from 0 to 1, e.g. 0.1, not '{value}'.");
                    }

                    faults.Rates[name] = rate;
                    break;
                case CollectorFlags.FailStatus:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int status) || status is < 400 or > 599)
                    {
                        return Failure($"--fail-status must be an HTTP error status from 400 to 599, not '{value}'.");
                    }

                    faults.FailStatus = status;
                    break;
                case CollectorFlags.RetryAfter:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    if (!RetryAfter.TryParse(value, out RetryAfter? retryAfter))
                    {
                        return Failure($"--retry-after must be delta-seconds (e.g. 5) or an HTTP-date (e.g. \"Wed, 21 Oct 2026 07:28:00 GMT\"), not '{value}'.");
                    }

                    faults.RetryAfter = retryAfter;
                    break;
                case CollectorFlags.Seed:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int seed))
                    {
                        return Failure($"--seed must be a whole number, not '{value}'.");
                    }

                    faults.Seed = seed;
                    break;
                case CollectorFlags.Delay or CollectorFlags.DownEvery or CollectorFlags.DownFor:
                    if (!TryTakeValue(args, ref i, ref value, name, out error))
                    {
                        return Failure(error);
                    }

                    if (!TryParseDuration(value!, out TimeSpan duration))
                    {
                        return Failure($"{name} must be a duration: a whole number with ms, s, m or h (e.g. 50ms, 10s), not '{value}'.");
                    }

                    if (name == CollectorFlags.Delay)
                    {
                        faults.Delay = duration;
                    }
                    else if (name == CollectorFlags.DownEvery)
                    {
                        faults.DownEvery = duration;
                    }
                    else
                    {
                        faults.DownFor = duration;
                    }

                    break;
                default:
                    return Failure($"Unknown argument '{arg}'.");
            }
        }

        if (faults.ToFlags(out string? faultError) is not { } faultFlags)
        {
            return Failure(faultError);
        }

        // The same validation StartAsync does, so that a bad host is a usage error (exit code 2), not a crash.
        IReadOnlyList<string> invalid = CollectorSettings.Validate(options, out _);
        if (invalid.Count != 0)
        {
            return Failure(string.Join(" ", invalid));
        }

        return new Result(options, ShowHelp: false, Error: null, faultFlags);
    }

    /// <summary>A whole number with a unit, ms, s, m or h (or a bare 0), up to a day.</summary>
    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text == "0")
        {
            return true;
        }

        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        // A day in the smallest unit bounds the number before any conversion can overflow.
        if (digits == 0
            || !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out long count)
            || count > (long)MaxDuration.TotalMilliseconds)
        {
            return false;
        }

        duration = text.AsSpan(digits) switch
        {
            "ms" => TimeSpan.FromMilliseconds(count),
            "s" => TimeSpan.FromSeconds(count),
            "m" => TimeSpan.FromMinutes(count),
            "h" => TimeSpan.FromHours(count),
            _ => TimeSpan.MinValue,
        };
        return duration >= TimeSpan.Zero && duration <= MaxDuration;
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

    private static string WriteUsage()
    {
        var usage = new System.Text.StringBuilder(
            """
            Usage: Clickstream.Collector [--port N] [--host ADDRESS] [--grpc-port N] [--require-identity] [--bearer-token T]
                                         [fault options]

            A Raccoon-compatible collector. On --port: POST /api/v1/events (REST, application/proto or application/json),
            GET /api/v1/events (WebSocket: binary protobuf or text JSON messages), GET /ping. On --grpc-port: gRPC
            raystack.raccoon.v1beta1.EventService/SendEvent. Clients are identified by X-User-ID and X-User-Group.

            """);
        AppendFlags(usage, faults: false);
        usage.AppendLine("  -h, --help             show this help");
        usage.AppendLine();
        usage.AppendLine("Fault options (off by default). Rates are shares of valid requests, 0 to 1, adding up to at most 1; each request");
        usage.AppendLine("draws once. DURATION is a whole number with ms, s, m or h, e.g. 50ms, 10s.");
        AppendFlags(usage, faults: true);
        return usage.ToString();
    }

    private static void AppendFlags(System.Text.StringBuilder usage, bool faults)
    {
        foreach (CollectorFlags.Flag flag in CollectorFlags.All)
        {
            if (flag.IsFault == faults)
            {
                usage.Append(CultureInfo.InvariantCulture, $"  {flag.Usage,-22} {flag.Help}").AppendLine();
            }
        }
    }

    private static Result Failure(string? error) => new(null, ShowHelp: false, Error: error);

    /// <summary>The fault flags as given, checked together once all are read.</summary>
    private sealed class FaultArguments
    {
        // Keyed by flag, so that a flag given twice keeps its last value, as the other flags do.
        public Dictionary<string, double> Rates { get; } = new(StringComparer.Ordinal);

        public int? FailStatus { get; set; }

        public RetryAfter? RetryAfter { get; set; }

        public int? Seed { get; set; }

        public TimeSpan Delay { get; set; }

        public TimeSpan? DownEvery { get; set; }

        public TimeSpan? DownFor { get; set; }

        public FaultFlags? ToFlags(out string? error)
        {
            error = null;
            if ((FailStatus is not null || RetryAfter is not null) && !Rates.ContainsKey(CollectorFlags.FailRate))
            {
                error = "--fail-status and --retry-after describe --fail-rate failures: give --fail-rate too.";
                return null;
            }

            double total = Rates.Values.Sum();
            if (total > 1 + 1e-9)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"The fault rates add up to {total}: they must add up to at most 1 (each request gets at most one fault).");
                return null;
            }

            OutageSchedule? outages = null;
            if (DownEvery is { } every && DownFor is { } duration)
            {
                if (every <= TimeSpan.Zero || duration <= TimeSpan.Zero || duration >= every)
                {
                    error = "--down-for must be positive and shorter than --down-every, or the collector never comes back.";
                    return null;
                }

                outages = new OutageSchedule(every, duration);
            }
            else if (DownEvery is not null || DownFor is not null)
            {
                error = "--down-every and --down-for go together: give both, or neither.";
                return null;
            }

            var rates = new List<FaultRate>();
            AddRate(rates, CollectorFlags.FailRate, Fault.Status(FailStatus ?? DefaultFailStatus, RetryAfter));
            AddRate(rates, CollectorFlags.SoftErrorRate, Fault.SoftError);
            AddRate(rates, CollectorFlags.ResetRate, Fault.ConnectionReset);
            AddRate(rates, CollectorFlags.TruncateRate, Fault.TruncatedResponse);
            AddRate(rates, CollectorFlags.MalformedRate, Fault.MalformedResponse);
            return new FaultFlags(rates, Seed, Delay, outages);
        }

        private void AddRate(List<FaultRate> rates, string flag, Fault fault)
        {
            if (Rates.TryGetValue(flag, out double rate) && rate > 0)
            {
                rates.Add(new FaultRate(fault, rate));
            }
        }
    }
}
