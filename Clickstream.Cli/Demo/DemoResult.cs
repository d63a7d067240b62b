namespace Clickstream.Cli.Demo;

/// <summary>What the demo measured: one result per phase, and what the collector received in all.</summary>
internal sealed record DemoResult(PhaseResult Instant, PhaseResult Durable, long CollectorEvents, IReadOnlyDictionary<string, long> CollectorEventsByType)
{
    /// <summary>
    /// What keeps the demo from passing: every QoS1 event must be acknowledged and received by the collector.
    /// QoS0 losses are not failures (QoS0 is at-most-once) and are shown in the table instead.
    /// </summary>
    public IReadOnlyList<string> FindDeliveryProblems()
    {
        var problems = new List<string>();
        var durable = Durable;
        var tracked = durable.Pipeline.DurableEventsTracked;
        if (durable.TrackFailed > 0)
        {
            problems.Add($"{durable.TrackFailed:N0} QoS1 TrackAsync calls threw; the first: {durable.FirstError?.GetType().Name}: {durable.FirstError?.Message}");
        }

        if (tracked != durable.TrackCompleted)
        {
            problems.Add($"the pipeline counted {tracked:N0} QoS1 events tracked, but {durable.TrackCompleted:N0} TrackAsync calls completed");
        }

        if (durable.Pipeline.EventsStored < tracked)
        {
            problems.Add($"{tracked - durable.Pipeline.EventsStored:N0} of {tracked:N0} QoS1 events were not stored");
        }

        if (!durable.FlushCompleted)
        {
            problems.Add("FlushAsync did not complete in time");
        }

        if (durable.Pipeline.EventsAcknowledged < tracked)
        {
            problems.Add($"{tracked - durable.Pipeline.EventsAcknowledged:N0} of {tracked:N0} QoS1 events were not acknowledged");
        }

        if (durable.PendingOnDisk > 0)
        {
            problems.Add($"{durable.PendingOnDisk:N0} QoS1 events are still on disk after the flush");
        }

        if (durable.CollectorEvents < tracked)
        {
            problems.Add($"the collector received {durable.CollectorEvents:N0} events in the QoS1 phase, {tracked - durable.CollectorEvents:N0} fewer than the {tracked:N0} QoS1 events tracked");
        }

        return problems;
    }
}
