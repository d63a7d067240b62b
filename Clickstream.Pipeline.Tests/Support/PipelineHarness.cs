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

    private readonly CollectorOptions _collectorOptions;

    private PipelineHarness(RaccoonCollector collector, CollectorOptions collectorOptions)
    {
        Collector = collector;
        _collectorOptions = collectorOptions;
    }

    public RaccoonCollector Collector { get; private set; }

    /// <summary>The transport the harness points new pipelines at (their <see cref="ClickstreamOptions.Endpoint"/>).</summary>
    public ClickstreamTransport Transport { get; set; } = ClickstreamTransport.Http;

    public TempFolder Folder { get; } = new();

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public CancellationToken Guard { get; } = Timeouts.Guard();

    /// <summary>Starts a collector (REST and WebSocket, plus gRPC on its own port) adjusted by <paramref name="configure"/>.</summary>
    public static async Task<PipelineHarness> StartAsync(Action<CollectorOptions>? configure = null)
    {
        var options = new CollectorOptions { KeepEvents = true, GrpcPort = 0 };
        configure?.Invoke(options);
        return new(await RaccoonCollector.StartAsync(options), options);
    }

    /// <summary>The collector's address for <paramref name="transport"/>.</summary>
    public Uri Endpoint(ClickstreamTransport transport) => transport switch
    {
        ClickstreamTransport.Grpc => Collector.GrpcAddress!,
        ClickstreamTransport.WebSocket => Collector.WebSocketEndpoint,
        _ => Collector.EventsEndpoint,
    };

    /// <summary>Stops the collector, dropping every connection, and starts a new one on the same ports.</summary>
    public async Task RestartCollectorAsync()
    {
        await StopCollectorAsync();
        await StartCollectorAgainAsync();
    }

    /// <summary>Stops the collector: its ports refuse connections until <see cref="StartCollectorAgainAsync"/>.</summary>
    public async Task StopCollectorAsync()
    {
        _collectorOptions.Port = Collector.BaseAddress.Port;
        _collectorOptions.GrpcPort = Collector.GrpcAddress?.Port;
        await Collector.DisposeAsync();
    }

    /// <summary>A new collector on the ports of the stopped one.</summary>
    public async Task StartCollectorAgainAsync() => Collector = await RaccoonCollector.StartAsync(_collectorOptions);

    /// <summary>Options on the fake clock, for this harness's collector and file; <paramref name="configure"/> adjusts them.</summary>
    public ClickstreamOptions Options(Action<ClickstreamOptions>? configure = null)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = Endpoint(Transport),
            Transport = Transport,
            StoragePath = Folder.StorePath,
            TimeProvider = Time,
            MaxBatchSize = 100,
            ShutdownTimeout = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The first retry delay of the pipelines made by <see cref="CreateRetrying"/>.</summary>
    public static readonly TimeSpan RetryBase = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay of the pipelines made by <see cref="CreateRetrying"/>: one step of the clock past any retry or probe.</summary>
    public static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(8);

    /// <summary>
    /// A pipeline sending batches of 5 that retries from <see cref="RetryBase"/> to <see cref="RetryMax"/> with its
    /// jitter at the ceiling, so each retry falls at a known time; <paramref name="configure"/> adjusts it.
    /// </summary>
    public ClickstreamPipeline CreateRetrying(Action<ClickstreamOptions>? configure = null) =>
        Create(o =>
        {
            o.MaxBatchSize = 5;
            o.RetryBaseDelay = RetryBase;
            o.RetryMaxDelay = RetryMax;
            configure?.Invoke(o);
        },
        hooks: new() { Random = FixedRandom.Ceiling });

    /// <summary>
    /// A pipeline on <see cref="Options"/> adjusted by <paramref name="configure"/>; <paramref name="transport"/> replaces
    /// the transport, <paramref name="hooks"/> the store's files or the retry jitter's randomness.
    /// </summary>
    public ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null, Func<PipelineSettings, IEventTransport>? transport = null, PipelineHooks? hooks = null)
    {
        var pipeline = ClickstreamPipeline.Create(Options(configure), hooks, transport);
        _pipelines.Add(pipeline);
        return pipeline;
    }

    /// <summary>Waits (without polling) until the pipeline's counters satisfy <paramref name="condition"/>.</summary>
    public Task<ClickstreamStatistics> WaitAsync(ClickstreamPipeline pipeline, Func<ClickstreamStatistics, bool> condition) =>
        pipeline.Counters.WaitAsync(condition, Guard);

    /// <summary>Tracks <paramref name="pageViews"/> QoS1 page views, then <paramref name="clicks"/> QoS0 clicks (numbered from 0).</summary>
    public static async Task TrackAsync(ClickstreamPipeline pipeline, int pageViews, int clicks = 0)
    {
        for (var i = 0; i < pageViews; i++)
        {
            await pipeline.TrackAsync(Clickstream.Samples.SampleEvents.PageView(i));
        }

        for (var i = 0; i < clicks; i++)
        {
            await pipeline.TrackAsync(Clickstream.Samples.SampleEvents.Click(i));
        }
    }

    /// <summary>
    /// Stops the collector, tracks 5 page views and lets them fail three times in a row (the first send and two
    /// retries, the clock moved by <paramref name="retryStep"/> between them), which marks the server unreachable
    /// and arms the first probe. The clock is not moved past the probe, so it can find the server back later.
    /// </summary>
    public async Task MakeUnreachableAsync(ClickstreamPipeline pipeline, TimeSpan retryStep)
    {
        await StopCollectorAsync();
        await TrackAsync(pipeline, pageViews: 5);
        for (var failures = 1; failures <= 3; failures++)
        {
            await WaitAsync(pipeline, s => s.BatchesFailed == failures);
            if (failures < 3)
            {
                Time.Advance(retryStep);
            }
        }

        await WaitAsync(pipeline, s => !s.IsReachable);
    }

    /// <summary>
    /// Flushes, stepping the fake clock by <paramref name="step"/> past every retry, Retry-After, probe, abandoned send
    /// and reconnect delay until done: after each step it waits for the pipeline to act (an ack, a failure, a probe).
    /// </summary>
    public async Task FlushDrivingTimeAsync(ClickstreamPipeline pipeline, TimeSpan step)
    {
        var flush = pipeline.FlushAsync(Guard);
        for (var steps = 0; steps < 500 && !flush.IsCompleted; steps++)
        {
            var before = pipeline.GetStatistics();
            Time.Advance(step);
            await Task.WhenAny(flush, WaitAsync(pipeline, s =>
                s.BatchesAcknowledged > before.BatchesAcknowledged
                || s.BatchesFailed > before.BatchesFailed
                || s.ReachabilityProbes > before.ReachabilityProbes));
        }

        await flush;
    }

    /// <summary>When the probe the pipeline armed is due, or null while none is armed.</summary>
    public static DateTimeOffset? NextProbeDue(ClickstreamPipeline pipeline) =>
        Volatile.Read(ref pipeline.Counters.NextProbeDueTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Moves the clock to the probe the pipeline armed, and waits until its outcome is applied (the gate open, or the next probe armed).</summary>
    public async Task StepToProbeAsync(ClickstreamPipeline pipeline)
    {
        var due = NextProbeDue(pipeline) ?? throw new InvalidOperationException("no probe armed");
        var probes = pipeline.GetStatistics().ReachabilityProbes;
        var now = Time.GetUtcNow();
        if (due > now)
        {
            Time.Advance(due - now);
        }

        await WaitAsync(pipeline, s => s.ReachabilityProbes > probes && (s.IsReachable || NextProbeDue(pipeline) is not null));
    }

    /// <summary>
    /// Starts the collector again after <see cref="MakeUnreachableAsync"/> and steps the clock from probe to probe until
    /// the pipeline finds it back. Each step waits until a probe is armed, so the clock never overtakes a probe still
    /// being scheduled (a probe started at once by Resume or the app's signal reschedules itself when it fails).
    /// </summary>
    public async Task BringBackAsync(ClickstreamPipeline pipeline)
    {
        await StartCollectorAgainAsync();
        while (!(await WaitAsync(pipeline, s => s.IsReachable || NextProbeDue(pipeline) is not null)).IsReachable)
        {
            await StepToProbeAsync(pipeline);
        }
    }

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
