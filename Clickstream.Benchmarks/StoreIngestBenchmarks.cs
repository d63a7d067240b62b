using BenchmarkDotNet.Attributes;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Pipeline.Storage;
using Clickstream.Samples;
using Google.Protobuf;
using LiteDB;

namespace Clickstream.Benchmarks;

/// <summary>
/// Durable ingest on real LiteDB files, in events per second: the pipeline's QoS1 group commit (1, 8 and 64 concurrent
/// producers each awaiting TrackAsync) against plain LiteDB, one insert per event (each its own commit) and one
/// transaction of 1,000 documents. Every method reports per event (OperationsPerInvoke), so Ratio and Op/s
/// (events/s) compare; the invocation count is fixed so that all three share one job despite the pipeline's
/// iteration setup.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(EventsPerSecondConfig))]
[InvocationCount(4)]
public class StoreIngestBenchmarks
{
    private const int EventsPerInvoke = 1_000;
    private const int SegmentEvents = 64;

    private readonly byte[] _eventBytes = SampleEvents.PageView(1).ToByteArray();
    private readonly PageView _event = SampleEvents.PageView(1);
    private PipelineFixture? _fixture;
    private ClickstreamPipeline? _pipeline;
    private LiteDatabase? _database;
    private ILiteCollection<BsonDocument>? _events;
    private ILiteCollection<BsonDocument>? _payloads;
    private ILiteCollection<BsonDocument>? _heads;
    private readonly SegmentBuilder _segment = new();
    private long _nextId;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await PipelineFixture.StartAsync();
        _pipeline = _fixture.CreatePipeline("pipeline");

        // The same layout as the pipeline's store: events keyed by an increasing Int64, raw BsonDocument.
        _database = new LiteDatabase(new ConnectionString { Filename = _fixture.FilePath("litedb"), Connection = ConnectionType.Direct });
        _events = _database.GetCollection("events", BsonAutoId.Int64);
        _payloads = _database.GetCollection(StoreDatabase.PayloadsCollection, BsonAutoId.Int64);
        _heads = _database.GetCollection(StoreDatabase.SegmentsCollection, BsonAutoId.Int64);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvoke)]
    public void LiteDbInsertPerEvent()
    {
        for (var i = 0; i < EventsPerInvoke; i++)
        {
            _events!.Insert(NewDocument());
        }
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public void LiteDbTransactionOf1000()
    {
        _database!.BeginTrans();
        for (var i = 0; i < EventsPerInvoke; i++)
        {
            _events!.Insert(NewDocument());
        }

        _database.Commit();
    }

    /// <summary>
    /// The raw limit of the pipeline's layout at its group size: one transaction per 64 events, each writing one
    /// segment (the packed events and a small head), as the store's writer does for a group commit of 64.
    /// </summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public void LiteDbSegmentOf64PerCommit()
    {
        for (var i = 0; i < EventsPerInvoke; i += SegmentEvents)
        {
            _database!.BeginTrans();
            for (var j = 0; j < SegmentEvents && i + j < EventsPerInvoke; j++)
            {
                _segment.Add(++_nextId, Guid.NewGuid(), DateTime.UtcNow.Ticks, "pageview", _eventBytes, 300);
            }

            var (payload, head) = _segment.Build();
            _payloads!.Insert(payload);
            _heads!.Insert(head);
            _database.Commit();
        }
    }

    [IterationSetup(Targets = [nameof(PipelineQoS1Producers1), nameof(PipelineQoS1Producers8), nameof(PipelineQoS1Producers64)])]
    public void PauseDelivery() => _pipeline!.Pause();

    /// <summary>One caller: a commit per event, nothing to group with.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task PipelineQoS1Producers1() => QoS1Ingest.ProduceAsync(_pipeline!, _event, EventsPerInvoke, 1);

    /// <summary>As <see cref="PipelineQoS1Producers64"/> with 8 callers. (One method per count: BenchmarkDotNet's in-process toolchain, used by the smoke run, has no [Arguments].)</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task PipelineQoS1Producers8() => QoS1Ingest.ProduceAsync(_pipeline!, _event, EventsPerInvoke, 8);

    /// <summary>
    /// Delivery is paused while this runs, so the store does the same work as the LiteDB methods (commits, no
    /// acks deleting events); IterationCleanup delivers and deletes what was stored, unmeasured.
    /// </summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task PipelineQoS1Producers64() => QoS1Ingest.ProduceAsync(_pipeline!, _event, EventsPerInvoke, 64);

    [IterationCleanup(Targets = [nameof(PipelineQoS1Producers1), nameof(PipelineQoS1Producers8), nameof(PipelineQoS1Producers64)])]
    public void DeliverStored() => QoS1Ingest.DeliverStored(_pipeline!);

    /// <summary>Every iteration starts from an empty collection, as the pipeline's does once its events are acknowledged.</summary>
    [IterationCleanup(Targets = [nameof(LiteDbInsertPerEvent), nameof(LiteDbTransactionOf1000), nameof(LiteDbSegmentOf64PerCommit)])]
    public void EmptyCollection()
    {
        _events!.DeleteAll();
        _payloads!.DeleteAll();
        _heads!.DeleteAll();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        var statistics = _pipeline!.GetStatistics();
        if (statistics.DurableEventsTracked > 0)
        {
            Console.WriteLine($"// pipeline: {statistics}");
        }

        _database!.Dispose();
        await _fixture!.DisposeAsync();
    }

    private BsonDocument NewDocument() => new()
    {
        ["_id"] = ++_nextId,
        ["g"] = Guid.NewGuid(),
        ["t"] = DateTime.UtcNow.Ticks,
        ["y"] = "pageview",
        ["b"] = _eventBytes,
    };
}
