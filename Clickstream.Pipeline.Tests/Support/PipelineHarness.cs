using Clickstream.Collector;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// A real collector on 127.0.0.1 (ephemeral port), a temp folder for the LiteDB file, a fake clock for the
/// pipeline's timers, and the pipelines made against them. Disposes everything.
/// </summary>
internal sealed class PipelineHarness : IAsyncDisposable
{
    private readonly List<ClickstreamPipeline> _pipelines = [];

    private PipelineHarness(RaccoonCollector collector)
    {
        Collector = collector;
    }

    public RaccoonCollector Collector { get; }

    public TempFolder Folder { get; } = new();

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public CancellationToken Guard { get; } = Timeouts.Guard();

    public static async Task<PipelineHarness> StartAsync() =>
        new(await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = true }));

    /// <summary>Options on the fake clock, for this harness's collector and file; <paramref name="configure"/> adjusts them.</summary>
    public ClickstreamOptions Options(Action<ClickstreamOptions>? configure = null)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = Collector.EventsEndpoint,
            StoragePath = Folder.StorePath,
            TimeProvider = Time,
            MaxBatchSize = 100,
            ShutdownTimeout = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return options;
    }

    public ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null, Func<PipelineSettings, IEventTransport>? transport = null)
    {
        var options = Options(configure);
        var pipeline = transport is null ? ClickstreamPipeline.Create(options) : ClickstreamPipeline.Create(options, transport);
        _pipelines.Add(pipeline);
        return pipeline;
    }

    /// <summary>Waits (without polling) until the pipeline's counters satisfy <paramref name="condition"/>.</summary>
    public Task<ClickstreamStatistics> WaitAsync(ClickstreamPipeline pipeline, Func<ClickstreamStatistics, bool> condition) =>
        pipeline.Counters.WaitAsync(condition, Guard);

    /// <summary>The bytes the collector received, each as a base64 string, in arrival order.</summary>
    public List<string> ReceivedPayloads() => Collector.Stats.ReceivedEvents().Select(e => Convert.ToBase64String(e.Bytes)).ToList();

    public static string Payload(IMessage message) => Convert.ToBase64String(message.ToByteArray());

    public async ValueTask DisposeAsync()
    {
        foreach (var pipeline in _pipelines)
        {
            await pipeline.DisposeAsync();
        }

        await Collector.DisposeAsync();
        Folder.Dispose();
    }
}
