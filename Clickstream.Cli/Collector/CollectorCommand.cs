using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Clickstream.Collector;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Rendering;
using Flags = Clickstream.Collector.CollectorFlags;

namespace Clickstream.Cli.Collector;

/// <summary>
/// <c>collector</c>: runs the Raccoon-compatible collector until Ctrl+C or SIGTERM, with a summary every second
/// (requests/s, events/s per type) and, with <c>--ndjson PATH</c>, every accepted event written to a file. Its
/// flags are the standalone collector's (<see cref="CollectorFlags"/>), read and checked by the same
/// <see cref="CollectorCommandLine.Parse"/>.
/// </summary>
internal sealed class CollectorCommand(IAnsiConsole console, CommandHooks hooks) : AsyncCommand<CollectorCommand.Settings>
{
    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(1);

    /// <summary>The options of <c>collector</c>: the collector's own flags, as strings handed to its parser, and <c>--ndjson</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        private static readonly PropertyInfo[] CollectorOptions = FindCollectorOptions();

        [CommandOption(Flags.Port + " <" + Flags.PortValue + ">")]
        [Description(Flags.PortHelp)]
        public string? Port { get; init; }

        [CommandOption(Flags.Host + " <" + Flags.HostValue + ">")]
        [Description(Flags.HostHelp)]
        public string? Host { get; init; }

        [CommandOption(Flags.GrpcPort + " <" + Flags.GrpcPortValue + ">")]
        [Description(Flags.GrpcPortHelp)]
        public string? GrpcPort { get; init; }

        [CommandOption(Flags.RequireIdentity)]
        [Description(Flags.RequireIdentityHelp)]
        public bool RequireIdentity { get; init; }

        [CommandOption(Flags.BearerToken + " <" + Flags.BearerTokenValue + ">")]
        [Description(Flags.BearerTokenHelp)]
        public string? BearerToken { get; init; }

        [CommandOption(Flags.MaxRequestBytes + " <" + Flags.MaxRequestBytesValue + ">")]
        [Description(Flags.MaxRequestBytesHelp)]
        public string? MaxRequestBytes { get; init; }

        [CommandOption(Flags.FailRate + " <" + Flags.RateValue + ">")]
        [Description(Flags.FailRateHelp)]
        public string? FailRate { get; init; }

        [CommandOption(Flags.FailStatus + " <" + Flags.FailStatusValue + ">")]
        [Description(Flags.FailStatusHelp)]
        public string? FailStatus { get; init; }

        [CommandOption(Flags.RetryAfter + " <" + Flags.RetryAfterValue + ">")]
        [Description(Flags.RetryAfterHelp)]
        public string? RetryAfter { get; init; }

        [CommandOption(Flags.SoftErrorRate + " <" + Flags.RateValue + ">")]
        [Description(Flags.SoftErrorRateHelp)]
        public string? SoftErrorRate { get; init; }

        [CommandOption(Flags.ResetRate + " <" + Flags.RateValue + ">")]
        [Description(Flags.ResetRateHelp)]
        public string? ResetRate { get; init; }

        [CommandOption(Flags.TruncateRate + " <" + Flags.RateValue + ">")]
        [Description(Flags.TruncateRateHelp)]
        public string? TruncateRate { get; init; }

        [CommandOption(Flags.MalformedRate + " <" + Flags.RateValue + ">")]
        [Description(Flags.MalformedRateHelp)]
        public string? MalformedRate { get; init; }

        [CommandOption(Flags.Seed + " <" + Flags.SeedValue + ">")]
        [Description(Flags.SeedHelp)]
        public string? Seed { get; init; }

        [CommandOption(Flags.Delay + " <" + Flags.DurationValue + ">")]
        [Description(Flags.DelayHelp)]
        public string? Delay { get; init; }

        [CommandOption(Flags.DownEvery + " <" + Flags.DurationValue + ">")]
        [Description(Flags.DownEveryHelp)]
        public string? DownEvery { get; init; }

        [CommandOption(Flags.DownFor + " <" + Flags.DurationValue + ">")]
        [Description(Flags.DownForHelp)]
        public string? DownFor { get; init; }

        [CommandOption("--ndjson <PATH>")]
        [Description("Write every accepted event to PATH, one JSON object per line: type, event_bytes (base64), req_guid, time received.")]
        public string? Ndjson { get; init; }

        /// <summary>The collector's options and faults, once <see cref="Validate"/> has read them.</summary>
        public CollectorCommandLine.Result Parsed { get; private set; } = null!;

        public override ValidationResult Validate()
        {
            Parsed = CollectorCommandLine.Parse(CollectorArguments());
            return Parsed.Error is { } error ? ValidationResult.Error(error) : ValidationResult.Success();
        }

        /// <summary>The collector flags given, as the standalone collector's command line (<c>--flag=value</c>).</summary>
        private List<string> CollectorArguments()
        {
            var args = new List<string>();
            foreach (var property in CollectorOptions)
            {
                var name = "--" + property.GetCustomAttribute<CommandOptionAttribute>()!.LongNames[0];
                switch (property.GetValue(this))
                {
                    case true:
                        args.Add(name);
                        break;
                    case string value:
                        args.Add(name + "=" + value);
                        break;
                }
            }

            return args;
        }

        private static PropertyInfo[] FindCollectorOptions()
        {
            var known = new HashSet<string>(StringComparer.Ordinal);
            foreach (var flag in Flags.All)
            {
                known.Add(flag.Name);
            }

            return Array.FindAll(
                typeof(Settings).GetProperties(),
                p => p.GetCustomAttribute<CommandOptionAttribute>() is { } option && known.Contains("--" + option.LongNames[0]));
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = settings.Parsed.Options!;
        RaccoonCollector collector;
        try
        {
            collector = await RaccoonCollector.StartAsync(options, cancellationToken);
        }
        catch (IOException ex)
        {
            throw new CliException(ExitCodes.Unreachable, CollectorReport.CannotListen(options, ex), ex);
        }

        await using (collector)
        {
            await using var ndjson = OpenNdjson(settings.Ndjson);
            if (ndjson is not null)
            {
                collector.Stats.RequestAccepted = ndjson.Add;
            }

            settings.Parsed.Faults?.ApplyTo(collector.Faults);
            foreach (var line in CollectorReport.Listening(collector, options, settings.Parsed.Faults))
            {
                console.WriteLine(line);
            }

            if (settings.Ndjson is not null)
            {
                console.WriteLine($"  NDJSON     {Path.GetFullPath(settings.Ndjson)}");
            }

            console.WriteLine("Ctrl+C to stop.");
            hooks.CollectorStarted?.Invoke(collector);

            await SummarizeUntilCancelledAsync(collector, cancellationToken);

            // Stop the server first, so that no request is accepted after the NDJSON file is closed.
            await collector.DisposeAsync();
            if (ndjson is not null)
            {
                await ndjson.DisposeAsync();
                console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"NDJSON: {ndjson.Lines:N0} events written to {settings.Ndjson}."));
            }

            foreach (var line in CollectorReport.Stopped(collector.Stats))
            {
                console.WriteLine(line);
            }

            console.Write(Totals(collector.Stats.EventsByType()));
        }

        return ExitCodes.Success;
    }

    private static NdjsonWriter? OpenNdjson(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return NdjsonWriter.Create(path, TimeProvider.System);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadFile, $"--ndjson: cannot create {path}: {ex.Message}", ex);
        }
    }

    private async Task SummarizeUntilCancelledAsync(RaccoonCollector collector, CancellationToken cancellationToken)
    {
        var rates = new CollectorRates(collector.Stats, TimeProvider.System);
        using var timer = new PeriodicTimer(SummaryInterval, TimeProvider.System);
        try
        {
            if (console.Profile.Capabilities.Interactive)
            {
                await console.Live(Summary(collector, rates.Next())).AutoClear(false).StartAsync(async live =>
                {
                    while (await timer.WaitForNextTickAsync(cancellationToken))
                    {
                        live.UpdateTarget(Summary(collector, rates.Next()));
                    }
                });
            }
            else
            {
                // Redirected output: a plain line per second, as a log would have it.
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    var sample = rates.Next();
                    console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{TimeProvider.System.GetLocalNow():HH:mm:ss}  {sample.RequestsPerSecond:F0} requests/s  {sample.EventsPerSecond:F0} events/s  {PerType(sample)}  total {collector.Stats.Events} events{(collector.Faults.IsDown ? ", DOWN" : "")}"));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: the normal way to stop.
        }
    }

    private static string PerType(CollectorRates.Sample sample) =>
        string.Join("  ", sample.EventsPerSecondByType.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value:F0}/s")));

    private static IRenderable Summary(RaccoonCollector collector, CollectorRates.Sample sample)
    {
        var stats = collector.Stats;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(string.Create(CultureInfo.InvariantCulture, $"{sample.RequestsPerSecond:F0} requests/s, {sample.EventsPerSecond:F0} events/s{(collector.Faults.IsDown ? " [red]DOWN[/]" : "")}"))
            .AddColumn("type").AddColumn(new TableColumn("events/s").RightAligned()).AddColumn(new TableColumn("events").RightAligned());
        foreach (var (type, rate) in sample.EventsPerSecondByType)
        {
            table.AddRow(Markup.Escape(type), rate.ToString("F0", CultureInfo.InvariantCulture), sample.EventsByType[type].ToString("N0", CultureInfo.InvariantCulture));
        }

        table.Caption(string.Create(
            CultureInfo.InvariantCulture,
            $"{stats.Requests:N0} requests: {stats.AcceptedRequests:N0} accepted, {stats.RejectedRequests:N0} rejected, {stats.FailedRequests:N0} failed; {stats.OpenWebSocketConnections} WebSockets open"));
        return table;
    }

    private static Table Totals(IReadOnlyDictionary<string, long> byType)
    {
        var table = new Table().Title("Events received per type").AddColumn("type").AddColumn(new TableColumn("events").RightAligned());
        foreach (var (type, count) in byType.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(type), count.ToString("N0", CultureInfo.InvariantCulture));
        }

        return table;
    }
}
