using Clickstream.Pipeline;

namespace Clickstream.Cli.Demo;

/// <summary>What <c>demo</c> was asked to do.</summary>
/// <param name="Events">Events to track over both phases.</param>
/// <param name="InstantShare">The share of <paramref name="Events"/> tracked as QoS0, 0 to 1.</param>
/// <param name="BatchSize">The pipeline's <c>MaxBatchSize</c>.</param>
/// <param name="Producers">Concurrent tasks calling TrackAsync in each phase.</param>
/// <param name="FlushTimeout">How long each phase's FlushAsync may take before the demo gives up on it.</param>
/// <param name="Transport">The protocol between the pipeline and the collector.</param>
/// <param name="QueueFullMode">What TrackAsync does with a QoS0 event when the QoS0 bound is reached.</param>
internal sealed record DemoSettings(
    int Events, double InstantShare, int BatchSize, int Producers, TimeSpan FlushTimeout, ClickstreamTransport Transport, ClickstreamQueueFullMode QueueFullMode = ClickstreamQueueFullMode.DropNewest)
{
    public int InstantEvents => (int)Math.Round(Events * InstantShare, MidpointRounding.AwayFromZero);

    public int DurableEvents => Events - InstantEvents;
}
