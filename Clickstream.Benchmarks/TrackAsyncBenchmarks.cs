using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Samples;

namespace Clickstream.Benchmarks;

/// <summary>
/// The cost of one <see cref="ClickstreamPipeline.TrackAsync"/> call with a ~200-byte page view, from one caller,
/// against a pipeline delivering to a real collector in process; a channel write is the floor to compare with.
/// </summary>
/// <remarks>
/// Each method makes several calls per invocation (<c>OperationsPerInvoke</c>, results are per call) so that all
/// three share one job, and so one <see cref="IterationCleanup"/>, with the ratio to the baseline intact.
/// Allocated bytes are counted process-wide by BenchmarkDotNet: they include the pipeline's background stages
/// and the collector handling the same events, not only the caller's thread.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
public class TrackAsyncBenchmarks
{
    private const int Invocations = 200;
    private const int ChannelWrites = 10_000;
    private const int InstantCalls = 1_000;
    private const int DurableCalls = 2;

    private readonly PageView _event = SampleEvents.PageView(1);
    private readonly Channel<PageView> _channel = Channel.CreateUnbounded<PageView>(new UnboundedChannelOptions { SingleReader = true });
    private PipelineFixture? _fixture;
    private ClickstreamPipeline? _instant;
    private ClickstreamPipeline? _durable;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await PipelineFixture.StartAsync();
        _instant = _fixture.CreatePipeline("qos0", o =>
        {
            o.InstantEventTypes.Add(nameof(PageView));

            // QoS0 events wait in memory until sent. The bound is far above one iteration's calls, so the benchmark
            // measures acceptance, not the overflow path; IterationCleanup proves that nothing was dropped.
            o.MaxQueuedEvents = 4 * Invocations * InstantCalls;
        });
        _durable = _fixture.CreatePipeline("qos1");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ChannelWrites)]
    public bool ChannelTryWrite()
    {
        var written = true;
        for (var i = 0; i < ChannelWrites; i++)
        {
            written &= _channel.Writer.TryWrite(_event);
        }

        return written;
    }

    [Benchmark(OperationsPerInvoke = InstantCalls)]
    public async Task TrackAsyncQoS0()
    {
        for (var i = 0; i < InstantCalls; i++)
        {
            await _instant!.TrackAsync(_event);
        }
    }

    [Benchmark(OperationsPerInvoke = DurableCalls)]
    public async Task TrackAsyncQoS1()
    {
        for (var i = 0; i < DurableCalls; i++)
        {
            await _durable!.TrackAsync(_event);
        }
    }

    [IterationCleanup]
    public void IterationCleanup()
    {
        while (_channel.Reader.TryRead(out _))
        {
        }

        // Empty the QoS0 queue between iterations (unmeasured), then check that every call was accepted.
        _instant!.FlushAsync().GetAwaiter().GetResult();
        var dropped = _instant.GetStatistics().EventsDroppedOverflow;
        if (dropped > 0)
        {
            throw new InvalidOperationException($"{dropped} QoS0 events were dropped on overflow: the benchmark measured the drop path.");
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var (name, pipeline) in new[] { ("QoS0", _instant!), ("QoS1", _durable!) })
        {
            var statistics = pipeline.GetStatistics();
            if (statistics.InstantEventsTracked + statistics.DurableEventsTracked > 0)
            {
                Console.WriteLine($"// {name} pipeline: {statistics}");
            }
        }

        await _fixture!.DisposeAsync();
    }
}
