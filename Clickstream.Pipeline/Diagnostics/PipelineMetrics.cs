using System.Diagnostics.Metrics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>
/// The pipeline's <see cref="Meter"/> and its instruments. Every count is an observable instrument that reads the
/// <see cref="PipelineCounters"/> (or the per-type counts of <see cref="EventTypeInfo"/>) when a listener collects:
/// the event path pays nothing for metrics. Only the two histograms are recorded, once per request, by the egress.
/// One meter per pipeline, tagged with the pipeline's instance number, so that several pipelines of one process
/// each report their own measurements; it comes from the app's <see cref="IMeterFactory"/> when one is given.
/// </summary>
internal sealed class PipelineMetrics : IDisposable
{
    private static int s_instances;

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly PipelineCounters _counters;
    private readonly EventTypeRegistry _types;
    private readonly HealthReporter _health;
    private Func<long>? _instantInMemory;
    private Func<long>? _durableInMemory;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<int> _batchSize;

    public PipelineMetrics(
        IMeterFactory? factory,
        PipelineCounters counters,
        EventTypeRegistry types,
        HealthReporter health,
        Func<long> instantInMemory,
        Func<long> durableInMemory)
    {
        _counters = counters;
        _types = types;
        _health = health;
        _instantInMemory = instantInMemory;
        _durableInMemory = durableInMemory;
        Instance = Interlocked.Increment(ref s_instances).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var options = new MeterOptions(Telemetry.Name)
        {
            Version = Telemetry.Version,
            Tags = [new(Telemetry.InstanceTag, Instance)],
        };

        // A factory's meter belongs to the factory (disposing it does nothing); a meter of our own is ours to dispose.
        _meter = factory?.Create(options) ?? new Meter(options);
        _ownsMeter = factory is null;

        const string Event = "{event}";
        const string Batch = "{batch}";
        _meter.CreateObservableCounter("clickstream.events.tracked", ObserveTracked, Event, "Events accepted by TrackAsync, by QoS class and Raccoon type (QoS0 events dropped on overflow are not counted).");
        _meter.CreateObservableCounter("clickstream.events.stored", () => Observe(ref _counters.Stored), Event, "QoS1 events committed to the store.");
        _meter.CreateObservableCounter("clickstream.events.dropped", ObserveDropped, Event, "Events that will never be sent, by reason: overflow, send_failed, shutdown (QoS0), cancelled, store_failed.");
        _meter.CreateObservableCounter("clickstream.events.evicted", ObserveEvicted, Event, "QoS1 events evicted from the store, by reason: over_capacity, expired.");
        _meter.CreateObservableCounter("clickstream.events.dead_lettered", () => Observe(ref _counters.DeadLettered), Event, "QoS1 events the server refused on their own, moved to the dead letters.");
        _meter.CreateObservableCounter("clickstream.dead_letters.evicted", () => Observe(ref _counters.DeadLettersEvicted), Event, "Dead letters deleted, the oldest first, to keep at most MaxDeadLetters.");
        _meter.CreateObservableCounter("clickstream.events.salvaged", () => Observe(ref _counters.EventsSalvaged), Event, "QoS1 events read from a damaged store file and carried into the new store.");
        _meter.CreateObservableCounter("clickstream.events.sent", () => Observe(ref _counters.EventsSent), Event, "Events put on the wire, counting each attempt.");
        _meter.CreateObservableCounter("clickstream.events.acknowledged", () => Observe(ref _counters.EventsAcknowledged), Event, "Events whose request the server acknowledged.");
        _meter.CreateObservableCounter("clickstream.batches.sent", () => Observe(ref _counters.BatchesSent), Batch, "Requests sent.");
        _meter.CreateObservableCounter("clickstream.batches.acknowledged", () => Observe(ref _counters.BatchesAcknowledged), Batch, "Requests the server acknowledged.");
        _meter.CreateObservableCounter("clickstream.batches.failed", ObserveFailed, Batch, "Requests that failed, by kind: network_error, timeout, server_error, rejected, throttled, unauthorized, invalid_response.");
        _meter.CreateObservableCounter("clickstream.batches.retried", () => Observe(ref _counters.BatchesRetried), Batch, "Batches of QoS1 events scheduled again after a failure.");
        _meter.CreateObservableGauge("clickstream.events.pending_on_disk", () => Observe(ref _counters.PendingOnDisk), Event, "QoS1 events in the store: committed and not yet acknowledged.");
        _meter.CreateObservableGauge("clickstream.events.in_memory", ObserveInMemory, Event, "Events held in memory, waiting or in flight, by QoS class (QoS1 events in memory are on disk too).");
        _meter.CreateObservableGauge("clickstream.events.in_flight", () => Observe(ref _counters.EventsInFlight), Event, "Events in requests sent and not yet answered.");
        _meter.CreateObservableGauge("clickstream.reachable", ObserveReachable, "1", "1 while batches are cut (not paused, network up, server answering), 0 while they are held.");
        _meter.CreateObservableCounter("clickstream.health.events", ObserveHealth, "{event}", "Health events reported, by kind (batch_created, batch_sent, batch_failed, events_dropped, connection_failed...).");
        _meter.CreateObservableCounter("clickstream.events.unreadable", () => Observe(ref _counters.EventsUnreadable), Event, "QoS1 events whose bytes could not be read (a corrupt segment, a damaged file), definitively failed.");
        _meter.CreateObservableCounter("clickstream.health.observer_errors", () => _health.ObserverErrors, "{error}", "Exceptions thrown by the health observer, caught by the pipeline.");
        _requestDuration = _meter.CreateHistogram<double>(
            "clickstream.request.duration",
            "s",
            "Time from sending a request to its outcome, by outcome (acknowledged or the failure kind).",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30] });
        _batchSize = _meter.CreateHistogram<int>(
            "clickstream.batch.size",
            Event,
            "Events per request sent.",
            tags: null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });
    }

    /// <summary>This pipeline's value of the <c>clickstream.pipeline.instance</c> meter tag.</summary>
    public string Instance { get; }

    /// <summary>Records one request's outcome: its duration and its size. Allocates nothing.</summary>
    public void RecordRequest(TimeSpan duration, int events, SendResult result)
    {
        _requestDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", Telemetry.ResultName(result)));
        _batchSize.Record(events);
    }

    public void Dispose()
    {
        // A factory's meter lives as long as the factory and goes on reporting the final counts (the QoS0 events
        // dropped at shutdown among them); it must not keep the pipeline and its store alive.
        _instantInMemory = null;
        _durableInMemory = null;
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static long Observe(ref long field) => Volatile.Read(ref field);

    private List<Measurement<long>> ObserveTracked()
    {
        // Two descriptors with the same Raccoon type (the same message name in two packages) report one measurement.
        var byType = new Dictionary<(string Type, bool Durable), long>();
        foreach (var type in _types.Tracked)
        {
            var key = (type.Type, type.Durable);
            byType[key] = byType.GetValueOrDefault(key) + type.Tracked;
        }

        var measurements = new List<Measurement<long>>(byType.Count);
        foreach (var ((type, durable), count) in byType)
        {
            measurements.Add(new(count, new KeyValuePair<string, object?>("qos", durable ? "1" : "0"), new KeyValuePair<string, object?>("type", type)));
        }

        return measurements;
    }

    private Measurement<long>[] ObserveDropped() =>
    [
        Tagged(ref _counters.DroppedOverflow, "reason", "overflow"),
        Tagged(ref _counters.DroppedSendFailed, "reason", "send_failed"),
        Tagged(ref _counters.DroppedShutdown, "reason", "shutdown"),
        Tagged(ref _counters.Cancelled, "reason", "cancelled"),
        Tagged(ref _counters.StoreFailed, "reason", "store_failed"),
    ];

    private Measurement<long>[] ObserveEvicted() =>
    [
        Tagged(ref _counters.EvictedOverCapacity, "reason", "over_capacity"),
        Tagged(ref _counters.EvictedExpired, "reason", "expired"),
    ];

    private List<Measurement<long>> ObserveFailed()
    {
        var measurements = new List<Measurement<long>>();
        for (var kind = 0; kind < _counters.BatchesFailedByKind.Length; kind++)
        {
            if ((SendResult)kind != SendResult.Acknowledged)
            {
                measurements.Add(Tagged(ref _counters.BatchesFailedByKind[kind], "kind", Telemetry.ResultName((SendResult)kind)));
            }
        }

        return measurements;
    }

    private Measurement<long>[] ObserveInMemory() =>
    [
        new(_instantInMemory?.Invoke() ?? 0, new KeyValuePair<string, object?>("qos", "0")),
        new(_durableInMemory?.Invoke() ?? 0, new KeyValuePair<string, object?>("qos", "1")),
    ];

    private int ObserveReachable() => Volatile.Read(ref _counters.Reachable);

    private List<Measurement<long>> ObserveHealth()
    {
        var measurements = new List<Measurement<long>>();
        for (var kind = 0; kind < HealthReporter.KindCount; kind++)
        {
            measurements.Add(new(_health.Reported(kind), new KeyValuePair<string, object?>("kind", HealthReporter.KindName((ClickstreamHealthEventKind)kind))));
        }

        return measurements;
    }

    private static Measurement<long> Tagged(ref long field, string tag, string value) =>
        new(Volatile.Read(ref field), new KeyValuePair<string, object?>(tag, value));
}
