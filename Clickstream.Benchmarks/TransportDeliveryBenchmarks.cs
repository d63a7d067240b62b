using BenchmarkDotNet.Attributes;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Samples;
using Google.Protobuf;

namespace Clickstream.Benchmarks;

/// <summary>
/// End-to-end delivery on each transport, in one run against the same in-process collector on loopback:
/// 20,000 QoS0 page views tracked by 4 producers, then flushed; the time per event is the inverse of the
/// delivered events/s. HTTP (application/proto) is the baseline the other transports are a ratio of.
/// </summary>
[MemoryDiagnoser]
public class TransportDeliveryBenchmarks
{
    private const int Events = 20_000;
    private const int Producers = 4;
    private IMessage[] _messages = [];
    private PipelineFixture _fixture = null!;
    private ClickstreamPipeline _pipeline = null!;

    [Params(ClickstreamTransport.Http, ClickstreamTransport.HttpJson, ClickstreamTransport.Grpc, ClickstreamTransport.WebSocket)]
    public ClickstreamTransport Transport { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _messages = new IMessage[Events];
        for (var i = 0; i < Events; i++)
        {
            _messages[i] = SampleEvents.PageView(i);
        }

        _fixture = await PipelineFixture.StartAsync();
        _pipeline = _fixture.CreatePipeline(
            Transport.ToString(),
            o =>
            {
                o.InstantEventTypes.Add("PageView");
                o.MaxQueuedEvents = Events * 2;
            },
            Transport);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        var stats = _pipeline.GetStatistics();
        await _fixture.DisposeAsync();
        if (stats.EventsDroppedOverflow + stats.EventsDroppedSendFailed > 0)
        {
            throw new InvalidOperationException($"{Transport}: events were dropped ({stats}); the measure is void.");
        }
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task TrackAndFlush()
    {
        var producers = new Task[Producers];
        for (var p = 0; p < Producers; p++)
        {
            producers[p] = ProduceAsync(p);
        }

        await Task.WhenAll(producers);
        await _pipeline.FlushAsync();
    }

    private async Task ProduceAsync(int producer)
    {
        for (var i = producer; i < Events; i += Producers)
        {
            await _pipeline.TrackAsync(_messages[i]);
            if ((i & 63) == 0)
            {
                // Tight producers on 2 cores would starve the delivery stages of the thread pool.
                await Task.Yield();
            }
        }
    }
}
