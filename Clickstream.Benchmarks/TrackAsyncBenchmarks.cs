using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Clickstream.Benchmarks.Harness;
using Clickstream.Benchmarks.Support;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using Clickstream.Pipeline;
using Clickstream.Samples;

namespace Clickstream.Benchmarks;

/// <summary>
/// The cost of one <see cref="ClickstreamPipeline.TrackAsync"/> call with a ~200-byte page view, from one caller,
/// against a pipeline delivering to the counting stub in another process; the peer is OpenTelemetry .NET logs (one
/// <c>ILogger</c> record with the page view's fields into a <c>BatchLogRecordExportProcessor</c> with the OTLP
/// exporter, http/protobuf, to the same stub); a channel write is the floor to compare with.
/// </summary>
/// <remarks>
/// Each method makes several calls per invocation (<c>OperationsPerInvoke</c>, results are per call) so that all
/// three share one job, and so one <see cref="IterationCleanup"/>, with the ratio to the baseline intact.
/// Allocated bytes are counted process-wide by BenchmarkDotNet: they include the pipeline's (and the peer's)
/// background stages sending the same events, not only the caller's thread; the stub runs in its own process.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
public class TrackAsyncBenchmarks
{
    private const int Invocations = 50;
    private const int ChannelWrites = 10_000;
    private const int InstantCalls = 1_000;
    private const int DurableCalls = 2;
    private const int WarmUpRounds = 4;
    private const int WarmUpCalls = 50_000;
    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(300);

    private readonly PageView _event = SampleEvents.PageView(1);
    private readonly byte[] _serialized = new byte[1024];
    private readonly Channel<PageView> _channel = Channel.CreateUnbounded<PageView>(new UnboundedChannelOptions { SingleReader = true });
    private PipelineFixture? _fixture;
    private ClickstreamPipeline? _instant;
    private ClickstreamPipeline? _durable;
    private BatchLogRecordExportProcessor? _otelProcessor;
    private ILoggerFactory? _otelFactory;
    private ILogger? _otelLogger;
    private long _otelRecords;

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

        // The peer's queue is far above one iteration's records too: a full queue drops, and that is not the measure.
        _otelProcessor = DeliveryRuns.CreateOtlpProcessor(_fixture.Stub.Addresses.LogsEndpoint, 4 * Invocations * InstantCalls);
        _otelFactory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(o => o.AddProcessor(_otelProcessor)));
        _otelLogger = _otelFactory.CreateLogger("Clickstream.Benchmarks");

        // As the end-to-end harness does (DeliveryRuns.WarmUpAsync): rounds of calls, each followed by idle time, so
        // that the JIT's background tier-up of the hot paths finishes before BenchmarkDotNet's own (short) warm-up.
        for (var round = 0; round < WarmUpRounds; round++)
        {
            for (var i = 0; i < WarmUpCalls; i++)
            {
                await _instant.TrackAsync(_event);
                PeerLog.PageViewed(_otelLogger, _event);
            }

            _otelRecords += WarmUpCalls;
            for (var i = 0; i < WarmUpCalls / 100; i++)
            {
                await _durable.TrackAsync(_event);
            }

            await _instant.FlushAsync();
            _otelProcessor.ForceFlush();
            await Task.Delay(WarmUpPause);
        }
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

    /// <summary>
    /// The floor of a QoS0 call: <c>CalculateSize</c> and <c>WriteTo</c> into a reused buffer, the serialization that
    /// <see cref="ClickstreamPipeline.TrackAsync"/> does on the caller's thread so that the app may reuse its message.
    /// </summary>
    [Benchmark(OperationsPerInvoke = InstantCalls)]
    public int SerializeOnly()
    {
        var written = 0;
        for (var i = 0; i < InstantCalls; i++)
        {
            var size = _event.CalculateSize();
            _event.WriteTo(_serialized.AsSpan(0, size));
            written += size;
        }

        return written;
    }

    [Benchmark(OperationsPerInvoke = InstantCalls)]
    public void OpenTelemetryLog()
    {
        for (var i = 0; i < InstantCalls; i++)
        {
            PeerLog.PageViewed(_otelLogger!, _event);
        }

        _otelRecords += InstantCalls;
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

        _otelProcessor!.ForceFlush();
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

        // Every record the peer was given must have reached the stub: a dropped one would flatter its cost.
        _otelProcessor!.ForceFlush();
        var received = (await _fixture!.Stub.GetCountsAsync()).LogRecords;
        _otelFactory!.Dispose();
        await _fixture.DisposeAsync();
        if (received < _otelRecords)
        {
            throw new InvalidOperationException($"OpenTelemetry delivered {received} of {_otelRecords} records: it dropped some, the measure is void.");
        }
    }
}
