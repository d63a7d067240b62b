using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
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

    // Per packed event: id, event guid, timestamp ticks, type index, length (the pipeline's segment entry header).
    private const int SegmentEntryHeaderBytes = 8 + 16 + 8 + 2 + 4;

    private readonly byte[] _eventBytes = SampleEvents.PageView(1).ToByteArray();
    private readonly PageView _event = SampleEvents.PageView(1);
    private PipelineFixture? _fixture;
    private ClickstreamPipeline? _pipeline;
    private LiteDatabase? _database;
    private ILiteCollection<BsonDocument>? _events;
    private ILiteCollection<BsonDocument>? _payloads;
    private ILiteCollection<BsonDocument>? _heads;
    private readonly byte[] _segment = new byte[SegmentEvents * (SegmentEntryHeaderBytes + 512)];
    private long _nextId;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await PipelineFixture.StartAsync();
        _pipeline = _fixture.CreatePipeline("pipeline");

        // The same layout as the pipeline's store: events keyed by an increasing Int64, raw BsonDocument.
        _database = new LiteDatabase(new ConnectionString { Filename = _fixture.FilePath("litedb"), Connection = ConnectionType.Direct });
        _events = _database.GetCollection("events", BsonAutoId.Int64);
        _payloads = _database.GetCollection("payloads", BsonAutoId.Int64);
        _heads = _database.GetCollection("segments", BsonAutoId.Int64);
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
    /// The raw limit of the pipeline's layout at its group size, in plain LiteDB: one transaction per 64 events, each
    /// writing one segment as the store's writer does for a group commit of 64, the events packed into one binary
    /// document (a small header each, then the bytes) beside a small head document. Written here rather than with the
    /// store's own segment code, which is internal: it is the same LiteDB work, not the same bytes.
    /// </summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public void LiteDbSegmentOf64PerCommit()
    {
        for (var i = 0; i < EventsPerInvoke; i += SegmentEvents)
        {
            _database!.BeginTrans();
            var first = _nextId + 1;
            var length = 0;
            var count = 0;
            for (; count < SegmentEvents && i + count < EventsPerInvoke; count++)
            {
                var entry = _segment.AsSpan(length);
                BinaryPrimitives.WriteInt64LittleEndian(entry, ++_nextId);
                Guid.NewGuid().TryWriteBytes(entry[8..]);
                BinaryPrimitives.WriteInt64LittleEndian(entry[24..], DateTime.UtcNow.Ticks);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[32..], 0);
                BinaryPrimitives.WriteInt32LittleEndian(entry[34..], _eventBytes.Length);
                _eventBytes.CopyTo(entry[SegmentEntryHeaderBytes..]);
                length += SegmentEntryHeaderBytes + _eventBytes.Length;
            }

            _payloads!.Insert(new BsonDocument { ["_id"] = first, ["b"] = _segment.AsSpan(0, length).ToArray() });
            _heads!.Insert(new BsonDocument { ["_id"] = first, ["n"] = count, ["l"] = _nextId, ["y"] = new BsonArray { "pageview" } });
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
