using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Clickstream.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Clickstream.Cli.Inspect;

/// <summary>
/// <c>inspect PATH [--json] [--dead-letters N]</c>: what a pipeline's store file holds (events pending, in flight,
/// dead-lettered and the newest dead letters with their type and reason, the oldest event's age, the file's size), read from a copy by <see cref="ClickstreamStoreInspector"/> so that the file is
/// never modified, even while a pipeline holds it (the figures are then a snapshot).
/// </summary>
internal sealed class InspectCommand(IAnsiConsole console) : Command<InspectCommand.Settings>
{
    /// <summary>The arguments of <c>inspect</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<PATH>")]
        [Description("The store file (ClickstreamOptions.StoragePath), e.g. events.db.")]
        public string Path { get; init; } = "";

        [CommandOption("--json")]
        [Description("Print one JSON object instead of a table, for scripts.")]
        public bool Json { get; init; }

        [CommandOption("--dead-letters <N>")]
        [Description("List the newest N dead letters (their id, type, time and reason); 0 lists none.")]
        [DefaultValue(ClickstreamStoreInspector.DefaultDeadLetters)]
        public int DeadLetters { get; init; } = ClickstreamStoreInspector.DefaultDeadLetters;

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Path) ? ValidationResult.Error("PATH must name the store file.")
            : DeadLetters is < 0 or > 100_000 ? ValidationResult.Error("--dead-letters must be between 0 and 100000.")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ClickstreamStoreSnapshot snapshot;
        try
        {
            snapshot = ClickstreamStoreInspector.Inspect(settings.Path, settings.DeadLetters);
        }
        catch (FileNotFoundException)
        {
            throw new CliException(ExitCodes.BadFile, $"{settings.Path}: no such file.");
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadFile, $"{settings.Path}: cannot be read: {ex.Message}", ex);
        }

        var now = TimeProvider.System.GetUtcNow();
        var age = snapshot.OldestEvent is { } oldest ? now - oldest : (TimeSpan?)null;
        if (settings.Json)
        {
            console.Profile.Out.Writer.WriteLine(ToJson(snapshot, age));
        }
        else
        {
            WriteTable(snapshot, age);
        }

        return ExitCodes.Success;
    }

    private static string ToJson(ClickstreamStoreSnapshot s, TimeSpan? age)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("path", s.Path);
            json.WriteNumber("file_bytes", s.FileBytes);
            json.WriteNumber("log_bytes", s.LogBytes);
            json.WriteNumber("events_pending", s.EventsPending);
            json.WriteNumber("requests_in_flight", s.RequestsInFlight);
            json.WriteNumber("events_in_flight", s.EventsInFlight);
            json.WriteNumber("dead_letters", s.DeadLetters);
            json.WriteStartArray("newest_dead_letters");
            foreach (var letter in s.NewestDeadLetters)
            {
                json.WriteStartObject();
                json.WriteNumber("id", letter.Id);
                json.WriteString("event_guid", letter.EventGuid);
                json.WriteString("type", letter.Type);
                json.WriteString("tracked_at", letter.TrackedAt);
                json.WriteString("dead_lettered_at", letter.DeadLetteredAt);
                json.WriteString("reason", letter.Reason);
                json.WriteNumber("event_bytes", letter.EventBytes.Length);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (s.OldestEvent is { } oldest && age is { } oldestAge)
            {
                json.WriteString("oldest_event", oldest);
                json.WriteNumber("oldest_event_age_seconds", Math.Round(oldestAge.TotalSeconds, 3));
            }
            else
            {
                json.WriteNull("oldest_event");
                json.WriteNull("oldest_event_age_seconds");
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private void WriteTable(ClickstreamStoreSnapshot s, TimeSpan? age)
    {
        var table = new Table().Title(Markup.Escape(s.Path)).HideHeaders().AddColumn("").AddColumn(new TableColumn("").RightAligned());
        table.AddRow("events pending (not acknowledged)", Count(s.EventsPending));
        table.AddRow("  in flight (in a request record)", $"{Count(s.EventsInFlight)} in {Count(s.RequestsInFlight)} requests");
        table.AddRow("events dead-lettered", Count(s.DeadLetters));
        table.AddRow("oldest pending event", s.OldestEvent is { } oldest
            ? string.Create(CultureInfo.InvariantCulture, $"{oldest:yyyy-MM-dd HH:mm:ss}Z ({Age(age!.Value)} old)")
            : "-");
        table.AddRow("file size", $"{Bytes(s.FileBytes)} (+ {Bytes(s.LogBytes)} log)");
        console.Write(table);
        if (s.NewestDeadLetters.Count == 0)
        {
            return;
        }

        var letters = new Table()
            .Title(string.Create(CultureInfo.InvariantCulture, $"newest {s.NewestDeadLetters.Count} of {Count(s.DeadLetters)} dead letters"))
            .AddColumn(new TableColumn("id").RightAligned())
            .AddColumn("type")
            .AddColumn("dead-lettered at")
            .AddColumn("reason");
        foreach (var letter in s.NewestDeadLetters)
        {
            letters.AddRow(
                letter.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(letter.Type),
                string.Create(CultureInfo.InvariantCulture, $"{letter.DeadLetteredAt:yyyy-MM-dd HH:mm:ss}Z"),
                Markup.Escape(letter.Reason));
        }

        console.Write(letters);
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB"),
    };

    private static string Age(TimeSpan age) => age switch
    {
        { TotalSeconds: < 120 } => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, age.TotalSeconds):F0} s"),
        { TotalHours: < 2 } => string.Create(CultureInfo.InvariantCulture, $"{age.TotalMinutes:F0} min"),
        { TotalDays: < 2 } => string.Create(CultureInfo.InvariantCulture, $"{age.TotalHours:F1} h"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{age.TotalDays:F1} days"),
    };
}
