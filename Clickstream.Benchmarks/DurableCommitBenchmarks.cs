using BenchmarkDotNet.Attributes;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Samples;

namespace Clickstream.Benchmarks;

/// <summary>
/// The cost of <see cref="ClickstreamOptions.FlushCommitsToDisk"/>: QoS1 ingest on real LiteDB files with the
/// default commit (the log written, not flushed to the device) against the same with the log flushed (fsync)
/// after each group commit, for one caller (a commit, so an fsync, per event) and for 64 concurrent callers
/// (the fsync shared by a group). Per event (OperationsPerInvoke): Ratio and Op/s (events/s) compare. Delivery
/// is paused while measured, as in <see cref="StoreIngestBenchmarks"/>; each iteration's events are delivered
/// and deleted after it, unmeasured.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(EventsPerSecondConfig))]
[InvocationCount(4)]
public class DurableCommitBenchmarks
{
    private const int EventsPerInvoke = 256;

    private readonly PageView _event = SampleEvents.PageView(1);
    private PipelineFixture? _fixture;
    private ClickstreamPipeline? _default;
    private ClickstreamPipeline? _flushed;

    /// <summary>Callers awaiting TrackAsync at once.</summary>
    [Params(1, 64)]
    public int Producers { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await PipelineFixture.StartAsync();
        _default = _fixture.CreatePipeline("default");
        _flushed = _fixture.CreatePipeline("flushed", o => o.FlushCommitsToDisk = true);
    }

    [IterationSetup]
    public void PauseDelivery()
    {
        _default!.Pause();
        _flushed!.Pause();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvoke)]
    public Task QoS1Commit() => ProduceAsync(_default!);

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task QoS1CommitFlushedToDisk() => ProduceAsync(_flushed!);

    [IterationCleanup]
    public void DeliverStored()
    {
        QoS1Ingest.DeliverStored(_default!);
        QoS1Ingest.DeliverStored(_flushed!);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var (name, pipeline) in new[] { ("default", _default!), ("flushed", _flushed!) })
        {
            var statistics = pipeline.GetStatistics();
            if (statistics.StoreCommits > 0)
            {
                Console.WriteLine($"// {name}: {statistics.EventsStored} events in {statistics.StoreCommits} commits ({(double)statistics.EventsStored / statistics.StoreCommits:F1} per commit)");
            }
        }

        await _fixture!.DisposeAsync();
    }

    private Task ProduceAsync(ClickstreamPipeline pipeline) => QoS1Ingest.ProduceAsync(pipeline, _event, EventsPerInvoke, Producers);
}
