using Clickstream.Pipeline;

namespace Clickstream.Cli.Demo;

/// <summary>
/// What one phase of the demo measured. Every figure is read from a counter (the pipeline's statistics, the
/// collector's stats, or the producers' own count of TrackAsync outcomes), never derived from the requested count.
/// </summary>
/// <param name="Name">The phase's title.</param>
/// <param name="Pipeline">The pipeline's counters over the phase (after minus before).</param>
/// <param name="PendingOnDisk">QoS1 events in the store at the end of the phase (a level, not a difference).</param>
/// <param name="TrackCompleted">TrackAsync calls that completed without an exception, as the producers counted them.</param>
/// <param name="TrackFailed">TrackAsync calls that threw.</param>
/// <param name="FirstError">The first exception a TrackAsync call threw, if any.</param>
/// <param name="FlushCompleted">Whether FlushAsync completed within the time allowed.</param>
/// <param name="TrackElapsed">From the first TrackAsync to the last one completing.</param>
/// <param name="TotalElapsed">From the first TrackAsync to FlushAsync completing.</param>
/// <param name="CollectorEvents">Events the collector accepted during the phase.</param>
/// <param name="CollectorEventsByType">Events the collector accepted during the phase, per Raccoon type.</param>
internal sealed record PhaseResult(
    string Name,
    ClickstreamStatistics Pipeline,
    long PendingOnDisk,
    long TrackCompleted,
    long TrackFailed,
    Exception? FirstError,
    bool FlushCompleted,
    TimeSpan TrackElapsed,
    TimeSpan TotalElapsed,
    long CollectorEvents,
    IReadOnlyDictionary<string, long> CollectorEventsByType)
{
    public long Tracked => Pipeline.InstantEventsTracked + Pipeline.DurableEventsTracked;

    public long Dropped => Pipeline.EventsDroppedOverflow + Pipeline.EventsDroppedSendFailed + Pipeline.EventsDroppedShutdown;
}
