using System.Threading.Tasks.Dataflow;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Tests.Support;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Storage;

public class EventStoreTests
{
    private TempFolder _folder = null!;
    private FakeTimeProvider _time = null!;
    private PipelineCounters _counters = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _time = new FakeTimeProvider();
        _counters = new PipelineCounters();
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private BufferBlock<EventEnvelope[]> _batches = null!;

    private (EventStore Store, EventScheduler Scheduler, DeliveryEpochs Epochs) Open(int memoryBudget = 10_000, int batchSize = 1000)
    {
        var store = EventStore.Open(new EventStoreOptions { Path = _folder.StorePath, MemoryBudget = memoryBudget, TimeProvider = _time }, _counters, NullLogger.Instance);
        var scheduler = new EventScheduler(batchSize, 10_000_000, TimeSpan.FromSeconds(1), _time, NullLogger.Instance);

        // Every range the store hands over is cut into a batch at once while a flush is pending.
        scheduler.Input.Post(FlowMessage.Flush(new EventEnvelope(new FlushMarker())));
        _batches = new BufferBlock<EventEnvelope[]>();
        scheduler.Output.LinkTo(_batches);
        var epochs = new DeliveryEpochs(store.RecoveredCount, store.LastId);
        store.Start(scheduler.Input, epochs, new EventTypeRegistry(System.Collections.Frozen.FrozenSet<string>.Empty, null));
        return (store, scheduler, epochs);
    }

    private static async Task CommitAsync(EventStore store, IEnumerable<EventEnvelope> events)
    {
        var pending = new List<Task>();
        foreach (var e in events)
        {
            store.Enqueue([e]);
            pending.Add(new ValueTask(e, e.Version).AsTask());
        }

        await Task.WhenAll(pending).WaitAsync(Timeouts.Guard());
    }

    [Test]
    public async Task Commit_completes_only_when_the_events_are_in_the_file()
    {
        var (store, scheduler, _) = Open();
        using (store)
        using (scheduler)
        {
            var events = Enumerable.Range(1, 300).Select(i => Envelopes.Make(i)).ToList();
            await CommitAsync(store, events);

            Assert.That(StoreFile.CommittedEventIds(_folder.StorePath), Is.EquivalentTo(events.Select(e => e.Id)));
        }
    }

    [Test]
    public async Task Events_waiting_together_are_committed_in_one_transaction()
    {
        var (store, scheduler, _) = Open();
        using (store)
        using (scheduler)
        {
            // Queued before the writer can look: 5,000 events cannot take 5,000 commits.
            await CommitAsync(store, Enumerable.Range(1, 5000).Select(i => Envelopes.Make(i)));

            // Counted just after the commits complete their callers.
            var stats = await _counters.WaitAsync(s => s.EventsStored == 5000, Timeouts.Guard());
            Assert.That(stats.StoreCommits, Is.LessThan(100));
        }
    }

    [Test]
    public async Task Committed_events_are_handed_to_the_scheduler_in_id_order()
    {
        var (store, scheduler, _) = Open();
        using (store)
        using (scheduler)
        {
            var scheduled = WaitScheduledAsync(scheduler, 50);
            await CommitAsync(store, Enumerable.Range(1, 50).Select(i => Envelopes.Make(i)));
            Assert.That((await scheduled).Select(e => e.Id), Is.EqualTo(Enumerable.Range(1, 50).Select(i => (long)i)));
        }
    }

    [Test]
    public async Task Request_record_names_its_events_and_ack_deletes_exactly_them()
    {
        var (store, scheduler, _) = Open();
        var events = Enumerable.Range(1, 10).Select(i => Envelopes.Make(i)).ToArray();
        var acknowledged = events[..4];
        var other = events[4..7];
        var ackGuid = Guid.NewGuid();
        using (store)
        using (scheduler)
        {
            await CommitAsync(store, events);
            await store.BeginRequestAsync(ackGuid, acknowledged).WaitAsync(Timeouts.Guard());
            await store.BeginRequestAsync(Guid.NewGuid(), other).WaitAsync(Timeouts.Guard());
            await store.AcknowledgeAsync(ackGuid, acknowledged).WaitAsync(Timeouts.Guard());
            Assert.That(StoreFile.CommittedEventIds(_folder.StorePath), Is.EquivalentTo(events[4..].Select(e => e.Id)));
            Assert.That(_counters.Snapshot().EventsPendingOnDisk, Is.EqualTo(6));
        }

        var requests = StoreFile.Requests(_folder.StorePath);
        Assert.That(requests.Values.Single(), Is.EqualTo(other.Select(e => e.Id)), "only the unacknowledged request's record is left");
    }

    [Test]
    public async Task Ack_deletes_only_the_QoS1_events_of_a_mixed_batch()
    {
        var (store, scheduler, _) = Open();
        using (store)
        using (scheduler)
        {
            var durable = Enumerable.Range(1, 3).Select(i => Envelopes.Make(i)).ToArray();
            await CommitAsync(store, durable);
            var batch = durable.Append(Envelopes.Make(100, durable: false)).ToArray();
            var requestGuid = Guid.NewGuid();
            await store.BeginRequestAsync(requestGuid, batch).WaitAsync(Timeouts.Guard());
            await store.AcknowledgeAsync(requestGuid, batch).WaitAsync(Timeouts.Guard());

            Assert.That(StoreFile.CommittedEventIds(_folder.StorePath), Is.Empty);
            Assert.That(_counters.Snapshot().EventsPendingOnDisk, Is.Zero);
        }
    }

    [Test]
    public async Task Reopened_store_schedules_pending_and_in_flight_events_again_and_continues_ids()
    {
        var (store, scheduler, _) = Open();
        var events = Enumerable.Range(1, 20).Select(i => Envelopes.Make(i)).ToArray();
        using (store)
        using (scheduler)
        {
            await CommitAsync(store, events);
            await store.BeginRequestAsync(Guid.NewGuid(), events[..10]).WaitAsync(Timeouts.Guard());
        }

        _counters = new PipelineCounters();
        var (reopened, rescheduler, _) = Open();
        using (reopened)
        using (rescheduler)
        {
            Assert.That(reopened.RecoveredCount, Is.EqualTo(20));
            Assert.That(reopened.LastId, Is.EqualTo(20));
            var recovered = await WaitScheduledAsync(rescheduler, 20);
            Assert.That(recovered.Select(e => e.Id), Is.EqualTo(events.Select(e => e.Id)));
            Assert.That(recovered.Select(e => e.Bytes), Is.EqualTo(events.Select(e => e.Bytes)));
            Assert.That(recovered.Select(e => e.EventGuid), Is.EqualTo(events.Select(e => e.EventGuid)));
        }

        Assert.That(StoreFile.Requests(_folder.StorePath), Is.Empty, "an earlier run's request records are forgotten");
    }

    [Test]
    public async Task Events_beyond_the_memory_budget_stay_on_disk_and_are_read_back_in_order_as_acks_free_room()
    {
        var (store, scheduler, _) = Open(memoryBudget: 100, batchSize: 1000);
        using (store)
        using (scheduler)
        {
            var events = Enumerable.Range(1, 350).Select(i => Envelopes.Make(i)).ToArray();
            var first = WaitScheduledAsync(scheduler, 100);
            await CommitAsync(store, events);

            var delivered = new List<long>();
            while (delivered.Count < events.Length)
            {
                var inMemory = delivered.Count == 0 ? await first : await WaitScheduledAsync(scheduler, Math.Min(100, events.Length - delivered.Count));
                Assert.That(inMemory, Has.Count.LessThanOrEqualTo(100), "never more than the budget in memory");
                var requestGuid = Guid.NewGuid();
                var batch = inMemory.ToArray();
                await store.BeginRequestAsync(requestGuid, batch).WaitAsync(Timeouts.Guard());
                await store.AcknowledgeAsync(requestGuid, batch).WaitAsync(Timeouts.Guard());
                delivered.AddRange(batch.Select(e => e.Id));
            }

            Assert.That(delivered, Is.EqualTo(events.Select(e => e.Id)));
            Assert.That(StoreFile.CommittedEventIds(_folder.StorePath), Is.Empty);
        }
    }

    private async Task<List<EventEnvelope>> WaitScheduledAsync(EventScheduler scheduler, int count)
    {
        _ = scheduler;
        var events = new List<EventEnvelope>();
        var guard = Timeouts.Guard();
        while (events.Count < count)
        {
            events.AddRange(await _batches.ReceiveAsync(guard));
        }

        return events;
    }
}
