using Clickstream.Pipeline;

namespace Clickstream.Cli.Demo;

/// <summary>The change of a pipeline's counters between two snapshots.</summary>
internal static class StatisticsDelta
{
    public static ClickstreamStatistics Between(ClickstreamStatistics before, ClickstreamStatistics after) => new()
    {
        InstantEventsTracked = after.InstantEventsTracked - before.InstantEventsTracked,
        DurableEventsTracked = after.DurableEventsTracked - before.DurableEventsTracked,
        EventsStored = after.EventsStored - before.EventsStored,
        EventsRecovered = after.EventsRecovered - before.EventsRecovered,
        EventsPendingOnDisk = after.EventsPendingOnDisk - before.EventsPendingOnDisk,
        EventsSent = after.EventsSent - before.EventsSent,
        EventsAcknowledged = after.EventsAcknowledged - before.EventsAcknowledged,
        EventsDroppedOverflow = after.EventsDroppedOverflow - before.EventsDroppedOverflow,
        EventsDroppedSendFailed = after.EventsDroppedSendFailed - before.EventsDroppedSendFailed,
        EventsDroppedShutdown = after.EventsDroppedShutdown - before.EventsDroppedShutdown,
        EventsCancelled = after.EventsCancelled - before.EventsCancelled,
        EventsStoreFailed = after.EventsStoreFailed - before.EventsStoreFailed,
        BatchesSent = after.BatchesSent - before.BatchesSent,
        BatchesAcknowledged = after.BatchesAcknowledged - before.BatchesAcknowledged,
        BatchesFailed = after.BatchesFailed - before.BatchesFailed,
        BatchesRetried = after.BatchesRetried - before.BatchesRetried,
        StoreCommits = after.StoreCommits - before.StoreCommits,
        StoreErrors = after.StoreErrors - before.StoreErrors,
    };

    public static Dictionary<string, long> Between(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after)
    {
        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (type, count) in after)
        {
            var change = count - before.GetValueOrDefault(type);
            if (change != 0)
            {
                delta[type] = change;
            }
        }

        return delta;
    }
}
