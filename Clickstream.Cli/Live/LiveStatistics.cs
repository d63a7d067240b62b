using System.Globalization;
using Clickstream.Cli.Demo;
using Clickstream.Pipeline;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Clickstream.Cli.Live;

/// <summary>
/// While a pipeline works: a progress bar (events acknowledged of those asked for) over a table of its counters
/// (tracked, stored, sent, acknowledged, dropped, pending on disk, batches), redrawn from
/// <see cref="ClickstreamPipeline.GetStatistics"/> a few times a second. On a console that is not interactive
/// (output redirected, CI, tests) it shows nothing: the command prints its final table plainly instead.
/// </summary>
internal static class LiveStatistics
{
    private const int BarWidth = 40;
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Shows the pipeline's counters, counted from now, until <paramref name="work"/> completes, and returns its result.</summary>
    /// <param name="console">The console; nothing is drawn unless it is interactive.</param>
    /// <param name="pipeline">The pipeline whose statistics are shown.</param>
    /// <param name="title">What runs, above the bar.</param>
    /// <param name="target">The events the work tracks: the bar is full once they are all acknowledged.</param>
    /// <param name="work">The work.</param>
    /// <param name="time">The clock of the refresh.</param>
    public static async Task<T> ShowAsync<T>(IAnsiConsole console, ClickstreamPipeline pipeline, string title, long target, Task<T> work, TimeProvider time)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return await work;
        }

        var before = pipeline.GetStatistics();
        await console.Live(Render(title, target, before, before)).AutoClear(false).StartAsync(async context =>
        {
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(RefreshInterval, time));
                context.UpdateTarget(Render(title, target, before, pipeline.GetStatistics()));
                context.Refresh();
            }
        });
        return await work;
    }

    /// <summary>The bar and the table for the change from <paramref name="before"/> to <paramref name="now"/>.</summary>
    public static IRenderable Render(string title, long target, ClickstreamStatistics before, ClickstreamStatistics now)
    {
        var delta = StatisticsDelta.Between(before, now);
        var share = target <= 0 ? 1 : Math.Clamp((double)delta.EventsAcknowledged / target, 0, 1);
        var filled = (int)Math.Round(share * BarWidth);
        var bar = new Markup(string.Create(
            CultureInfo.InvariantCulture,
            $"{Markup.Escape(title)}  [green]{new string('━', filled)}[/][grey]{new string('━', BarWidth - filled)}[/] {share,4:P0}  {delta.EventsAcknowledged:N0} / {target:N0} acknowledged"));

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("tracked").AddColumn("stored").AddColumn("sent").AddColumn("acknowledged")
            .AddColumn("dropped").AddColumn("pending on disk").AddColumn("batches ok / failed / retried");
        foreach (var column in table.Columns)
        {
            column.RightAligned();
        }

        table.AddRow(
            Count(delta.InstantEventsTracked + delta.DurableEventsTracked),
            Count(delta.EventsStored),
            Count(delta.EventsSent),
            Count(delta.EventsAcknowledged),
            Count(delta.EventsDroppedOverflow + delta.EventsDroppedSendFailed + delta.EventsDroppedShutdown),
            Count(now.EventsPendingOnDisk),
            $"{Count(delta.BatchesAcknowledged)} / {Count(delta.BatchesFailed)} / {Count(delta.BatchesRetried)}");
        return new Rows(bar, table);
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
