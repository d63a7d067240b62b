using System.Collections.Frozen;
using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// One <see cref="EventStore"/> on a real LiteDB file in a temp folder, with a scheduler whose batches the test
/// receives (cut at once: a flush is pending), delivery epochs, a fake clock and recorded logs.
/// </summary>
internal sealed class StoreHarness : IDisposable
{
    private readonly BufferBlock<EventEnvelope[]> _batches = new();
    private EventScheduler? _scheduler;

    public TempFolder Folder { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public PipelineCounters Counters { get; } = new();

    public RecordingLoggerFactory Logs { get; } = new();

    /// <summary>The messages logged with <paramref name="eventId"/>.</summary>
    public List<string> Messages(int eventId)
    {
        var messages = new List<string>();
        foreach (var entry in Logs.Entries)
        {
            if (entry.EventId == eventId)
            {
                messages.Add(entry.Message);
            }
        }

        return messages;
    }

    public EventStore Store { get; private set; } = null!;

    public DeliveryEpochs Epochs { get; private set; } = null!;

    public CancellationToken Guard { get; } = Timeouts.Guard();

    /// <summary>The store's options for this folder and clock; adjust with <c>with { ... }</c>.</summary>
    public EventStoreOptions Options() => new() { Path = Folder.StorePath, TimeProvider = Time };

    /// <summary>
    /// Opens the store and starts its writer. <paramref name="preload"/> is queued before the writer starts, so
    /// that it is committed in one group, and stamped into the current epoch.
    /// </summary>
    public void Start(EventStoreOptions options, IReadOnlyList<EventEnvelope>? preload = null, int batchSize = 1000)
    {
        var logger = Logs.CreateLogger("store");
        Store = EventStore.Open(options, Counters, logger);
        _scheduler = new EventScheduler(batchSize, 100_000_000, TimeSpan.FromSeconds(1), Time, logger);
        _scheduler.Input.Post(FlowMessage.Flush(new EventEnvelope(new FlushMarker())));
        _scheduler.Output.LinkTo(_batches);
        Epochs = new DeliveryEpochs(Store.RecoveredCount, Store.LastId);
        foreach (var e in preload ?? [])
        {
            Stamp(e);
            Store.Enqueue([e]);
        }

        Store.Start(_scheduler.Input, Epochs, new EventTypeRegistry(FrozenSet<string>.Empty, null));
    }

    /// <summary>An event as the processor leaves it, stamped now on the fake clock.</summary>
    public EventEnvelope Event(long id, int size = 100)
    {
        var e = Envelopes.Make(id, size);
        e.TimestampTicks = Time.GetUtcNow().UtcTicks;
        return e;
    }

    public List<EventEnvelope> Events(long from, long to, int size = 100)
    {
        var events = new List<EventEnvelope>();
        for (var id = from; id <= to; id++)
        {
            events.Add(Event(id, size));
        }

        return events;
    }

    /// <summary>Queues the events and waits for every TrackAsync they stand for.</summary>
    public async Task CommitAsync(IEnumerable<EventEnvelope> events)
    {
        var pending = new List<Task>();
        foreach (var e in events)
        {
            Stamp(e);
            Store.Enqueue([e]);
            pending.Add(new ValueTask(e, e.Version).AsTask());
        }

        await Task.WhenAll(pending).WaitAsync(Guard);
    }

    /// <summary>Waits for <paramref name="count"/> events handed to the scheduler.</summary>
    public async Task<List<EventEnvelope>> ScheduledAsync(int count)
    {
        var events = new List<EventEnvelope>();
        while (events.Count < count)
        {
            events.AddRange(await _batches.ReceiveAsync(Guard));
        }

        return events;
    }

    /// <summary>What the scheduler was handed so far, without waiting.</summary>
    public List<EventEnvelope> ScheduledSoFar()
    {
        var events = new List<EventEnvelope>();
        while (_batches.TryReceive(out var batch))
        {
            events.AddRange(batch);
        }

        return events;
    }

    /// <summary>Sends and acknowledges <paramref name="events"/> as the egress does: record, then ack, then their epochs.</summary>
    public async Task AcknowledgeAsync(EventEnvelope[] events)
    {
        var requestGuid = Guid.NewGuid();
        await Store.BeginRequestAsync(requestGuid, events).WaitAsync(Guard);
        await Store.AcknowledgeAsync(requestGuid, events).WaitAsync(Guard);
        DeliveryEpochs.Complete(events);
    }

    public Task<ClickstreamStatistics> WaitAsync(Func<ClickstreamStatistics, bool> condition) => Counters.WaitAsync(condition, Guard);

    /// <summary>Closes the store (and the scheduler) so that its file can be read or reopened.</summary>
    public void Stop()
    {
        Store?.Dispose();
        _scheduler?.Complete();
    }

    public void Dispose()
    {
        Stop();
        Folder.Dispose();
    }

    private void Stamp(EventEnvelope e)
    {
        var epoch = Epochs.Current;
        epoch.Add();
        e.Epoch = epoch;
    }
}
