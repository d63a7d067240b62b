using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Clickstream.Pipeline.Diagnostics;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>
/// Listens to the <c>Clickstream.Pipeline</c> instruments of the meters <paramref name="include"/> accepts (one
/// pipeline's), with a real <see cref="MeterListener"/>: <see cref="Collect"/> reads the observable instruments as an
/// exporter would; histogram recordings are kept as they come.
/// </summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _observed = new();
    private readonly ConcurrentQueue<(string Key, double Value)> _recorded = new();
    private readonly ConcurrentDictionary<string, Instrument> _published = new();
    private readonly ConcurrentBag<string> _completed = [];

    public MetricsRecorder(Func<Meter, bool> include)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.Name && include(instrument.Meter))
            {
                _published[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _completed.Add(instrument.Name);
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => OnMeasurement(i, value, tags));
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => OnMeasurement(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => OnMeasurement(i, value, tags));
        _listener.Start();
    }

    /// <summary>The instruments seen, by name.</summary>
    public IReadOnlyDictionary<string, Instrument> Instruments => _published;

    /// <summary>Instruments whose measurements were completed (their meter disposed).</summary>
    public IReadOnlyCollection<string> Completed => _completed;

    /// <summary>Reads every observable instrument now, replacing what the last collection read.</summary>
    public void Collect()
    {
        _observed.Clear();
        _listener.RecordObservableInstruments();
    }

    /// <summary>What the last <see cref="Collect"/> read for <paramref name="name"/> with exactly these tags; null when nothing.</summary>
    public double? Observed(string name, params (string Key, string Value)[] tags) =>
        _observed.TryGetValue(Key(name, tags), out var value) ? value : null;

    /// <summary>Every tag set the last <see cref="Collect"/> read for <paramref name="name"/>, with its value.</summary>
    public Dictionary<string, double> ObservedAll(string name)
    {
        var result = new Dictionary<string, double>();
        foreach (var (key, value) in _observed)
        {
            if (key.StartsWith(name + "|", StringComparison.Ordinal))
            {
                result[key[(name.Length + 1)..]] = value;
            }
        }

        return result;
    }

    /// <summary>The values recorded so far by the histogram <paramref name="name"/> with exactly these tags.</summary>
    public List<double> Recorded(string name, params (string Key, string Value)[] tags)
    {
        var key = Key(name, tags);
        return _recorded.Where(r => r.Key == key).Select(r => r.Value).ToList();
    }

    public void Dispose() => _listener.Dispose();

    private static string Key(string name, IEnumerable<(string Key, string Value)> tags) =>
        name + "|" + string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Key + "=" + t.Value));

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var list = new List<(string, string)>();
        foreach (var tag in tags)
        {
            list.Add((tag.Key, tag.Value?.ToString() ?? string.Empty));
        }

        var key = Key(instrument.Name, list);
        if (instrument.IsObservable)
        {
            _observed[key] = value;
        }
        else
        {
            _recorded.Enqueue((key, value));
        }
    }
}

/// <summary>An <see cref="IMeterFactory"/> as a host provides one: it creates the meters and disposes them with itself.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly ConcurrentBag<Meter> _meters = [];

    public IReadOnlyCollection<Meter> Meters => _meters;

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
