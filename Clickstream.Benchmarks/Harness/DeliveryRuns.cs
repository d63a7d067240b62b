using System.Net;
using System.Net.Http.Headers;
using Clickstream.Benchmarks.Support;
using Clickstream.Pipeline;
using Clickstream.Raccoon;
using Clickstream.Samples;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// The end-to-end contenders, each run in a child process of its own: set up, warm up (unmeasured), then N events
/// from "given" to "acknowledged by the stub", with the process's allocations and collections over that window.
/// Every contender uses batches of <see cref="BatchSize"/> and a <see cref="BatchDelay"/> timer, and its delivered
/// count is read back from the stub afterwards.
/// </summary>
internal static class DeliveryRuns
{
    public const int BatchSize = 500;
    public const int QoS1Producers = 64;
    public const int RawEventsFactor = 5;
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(200);

    // Events are created before the measurement; a run cycles through this many distinct ones.
    private const int DistinctEvents = 50_000;

    private const int WarmUpRounds = 4;
    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(300);

    /// <summary>Runs <paramref name="contender"/>; <paramref name="beforeMeasuring"/> runs after the warm-up (the profiler attaches there).</summary>
    public static Task<Measurement> RunAsync(string contender, int events, StubAddresses stub, Func<Task> beforeMeasuring) => contender switch
    {
        Contenders.PipelineQoS0 => PipelineAsync(contender, events, stub, ClickstreamTransport.Http, durable: false, collector: false, beforeMeasuring),
        Contenders.PipelineQoS1 => PipelineAsync(contender, events, stub, ClickstreamTransport.Http, durable: true, collector: false, beforeMeasuring),
        Contenders.OpenTelemetry => OpenTelemetryAsync(events, stub, beforeMeasuring),
        Contenders.Raw1 => RawAsync(contender, events, stub, 1, beforeMeasuring),
        Contenders.Raw4 => RawAsync(contender, events, stub, 4, beforeMeasuring),
        _ when Contenders.TransportOf(contender) is { } transport =>
            PipelineAsync(contender, events, stub, transport, durable: false, collector: true, beforeMeasuring),
        _ => throw new ArgumentException($"Unknown contender '{contender}'.", nameof(contender)),
    };

    private static PageView[] CreateEvents(int events)
    {
        var created = new PageView[Math.Min(events, DistinctEvents)];
        for (var i = 0; i < created.Length; i++)
        {
            created[i] = SampleEvents.PageView(i);
        }

        return created;
    }

    private static int WarmUpEvents(int events) => Math.Max(BatchSize, events);

    /// <summary>
    /// The warm-up before every measured window, the same for every contender: <see cref="WarmUpRounds"/> rounds of
    /// <see cref="WarmUpEvents"/> events each delivered, each followed by an idle <see cref="WarmUpPause"/>.
    /// </summary>
    /// <remarks>
    /// The JIT recompiles hot methods with full optimization (tier 1) on a background thread, after the code has been
    /// called for a while. With both cores busy delivering events that thread is starved, and one unbroken warm-up left
    /// part of the hot path unoptimized for the first ~1,000,000 events (5.4 against 1.1 CPU us/event in a longer run of
    /// the same code); the idle pauses let it finish, as a long-running app would have. Measured once with one warm-up
    /// of N/10 events instead, the pipeline ran 1.98x OpenTelemetry, and 0.82x with one warm-up of N: both compared
    /// code still being tiered.
    /// </remarks>
    private static async Task WarmUpAsync(Func<int, Task> round, int events)
    {
        for (var i = 0; i < WarmUpRounds; i++)
        {
            await round(WarmUpEvents(events));
            await Task.Delay(WarmUpPause);
        }
    }

    private static async Task<Measurement> PipelineAsync(
        string contender, int events, StubAddresses stub, ClickstreamTransport transport, bool durable, bool collector, Func<Task> beforeMeasuring)
    {
        var sample = CreateEvents(events);
        var folder = Directory.CreateTempSubdirectory("clickstream-e2e-");
        try
        {
            var pipeline = ClickstreamPipeline.Create(new ClickstreamOptions
            {
                Endpoint = stub.EndpointFor(transport, collector),
                Transport = transport,
                StoragePath = Path.Combine(folder.FullName, "events.db"),
                MaxBatchSize = BatchSize,
                MaxTimeBetweenTwoBatches = BatchDelay,
                InstantEventTypes = { durable ? "none" : nameof(PageView) },

                // Room for every event of the run: the measure is delivery, not the overflow path (checked below).
                MaxQueuedEvents = events + WarmUpEvents(events),
                DetectNetworkChanges = false,

                // Raccoon's gRPC and WebSocket handlers require the user's identity.
                Headers = { ["X-User-ID"] = "bench" },
            });
            await using (pipeline)
            {
                await WarmUpAsync(
                    async count =>
                    {
                        await TrackAllAsync(pipeline, sample, count, durable);
                        await pipeline.FlushAsync();
                    },
                    events);
                await beforeMeasuring();

                var before = await StubClient.GetCountsAsync(stub.BaseAddress);
                var start = GcSnapshot.Take();
                await TrackAllAsync(pipeline, sample, events, durable);
                await pipeline.FlushAsync();
                var end = GcSnapshot.Take();
                var after = await StubClient.GetCountsAsync(stub.BaseAddress);

                var statistics = pipeline.GetStatistics();
                if (statistics.EventsDroppedOverflow + statistics.EventsDroppedSendFailed > 0)
                {
                    throw new InvalidOperationException($"{contender}: events were dropped, the measure is void: {statistics}");
                }

                var delivered = collector ? after.CollectorEvents - before.CollectorEvents : after.Events - before.Events;
                return start.Until(end, contender, events, delivered);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task TrackAllAsync(ClickstreamPipeline pipeline, PageView[] sample, int events, bool durable)
    {
        if (durable)
        {
            // QoS1 TrackAsync completes at the commit: concurrent callers share group commits.
            await QoS1Ingest.ProduceAsync(pipeline, sample, events, QoS1Producers);
        }
        else
        {
            // One caller, as the peer's: a QoS0 TrackAsync completes at once.
            for (var i = 0; i < events; i++)
            {
                var tracked = pipeline.TrackAsync(sample[i % sample.Length]);
                if (!tracked.IsCompletedSuccessfully)
                {
                    await tracked;
                }
            }
        }
    }

    /// <summary>
    /// The peer: OpenTelemetry .NET logs, one <c>ILogger</c> record per event carrying the page view's fields, into a
    /// <see cref="BatchLogRecordExportProcessor"/> with the OTLP exporter (http/protobuf) to the stub. The queue holds
    /// the whole run, so nothing is dropped; ForceFlush waits until everything queued is exported.
    /// </summary>
    private static async Task<Measurement> OpenTelemetryAsync(int events, StubAddresses stub, Func<Task> beforeMeasuring)
    {
        var sample = CreateEvents(events);
        using var processor = CreateOtlpProcessor(stub.LogsEndpoint, events + WarmUpEvents(events));
        using var factory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(o => o.AddProcessor(processor)));
        var logger = factory.CreateLogger("Clickstream.Benchmarks");

        await WarmUpAsync(
            async count =>
            {
                var counted = await StubClient.GetCountsAsync(stub.BaseAddress);
                LogAll(logger, sample, count);
                await FlushAsync(processor, stub, counted.LogRecords + count);
            },
            events);
        await beforeMeasuring();

        var before = await StubClient.GetCountsAsync(stub.BaseAddress);
        var start = GcSnapshot.Take();
        LogAll(logger, sample, events);
        await FlushAsync(processor, stub, before.LogRecords + events);
        var end = GcSnapshot.Take();
        var after = await StubClient.GetCountsAsync(stub.BaseAddress);
        return start.Until(end, Contenders.OpenTelemetry, events, after.LogRecords - before.LogRecords);
    }

    /// <summary>
    /// ForceFlush returns once the last batch is taken from the queue, which is while it is still being exported; the
    /// records count as delivered when the stub has them, so the few milliseconds after are polled from the stub.
    /// </summary>
    private static async Task FlushAsync(BatchLogRecordExportProcessor processor, StubAddresses stub, long expected)
    {
        if (!processor.ForceFlush(timeoutMilliseconds: 300_000))
        {
            throw new InvalidOperationException("OpenTelemetry: ForceFlush timed out.");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await StubClient.GetCountsAsync(stub.BaseAddress)).LogRecords < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }
    }

    /// <summary>The peer's export pipeline: batches of 500 after at most 200 ms, to the stub's /v1/logs.</summary>
    public static BatchLogRecordExportProcessor CreateOtlpProcessor(Uri endpoint, int maxQueueSize)
    {
        var exporter = new OtlpLogExporter(new OtlpExporterOptions
        {
            Endpoint = endpoint,
            Protocol = OtlpExportProtocol.HttpProtobuf,
            TimeoutMilliseconds = 30_000,
        });
        return new BatchLogRecordExportProcessor(
            exporter,
            maxQueueSize: maxQueueSize,
            scheduledDelayMilliseconds: (int)BatchDelay.TotalMilliseconds,
            exporterTimeoutMilliseconds: 30_000,
            maxExportBatchSize: BatchSize);
    }

    private static void LogAll(ILogger logger, PageView[] sample, int events)
    {
        for (var i = 0; i < events; i++)
        {
            PeerLog.PageViewed(logger, sample[i % sample.Length]);
        }
    }

    /// <summary>
    /// The raw limit: one pre-serialized 500-event SendEventRequest posted again and again by one HttpClient, from
    /// <paramref name="connections"/> concurrent loops on as many connections; each ack is read to its end.
    /// </summary>
    private static async Task<Measurement> RawAsync(string contender, int events, StubAddresses stub, int connections, Func<Task> beforeMeasuring)
    {
        var body = RawRequest(CreateEvents(BatchSize));
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false });
        var contentType = new MediaTypeHeaderValue("application/proto");

        await WarmUpAsync(count => PostAllAsync(count / BatchSize), events);
        await beforeMeasuring();

        // The raw loop is so fast that N events would be a window of a few hundred requests: it runs 5 N.
        var requests = RawEventsFactor * events / BatchSize;
        var before = await StubClient.GetCountsAsync(stub.BaseAddress);
        var start = GcSnapshot.Take();
        await PostAllAsync(requests);
        var end = GcSnapshot.Take();
        var after = await StubClient.GetCountsAsync(stub.BaseAddress);
        return start.Until(end, contender, requests * BatchSize, after.Events - before.Events);

        async Task PostAllAsync(int count)
        {
            var remaining = count;
            var loops = new Task[connections];
            for (var c = 0; c < loops.Length; c++)
            {
                loops[c] = LoopAsync();
            }

            await Task.WhenAll(loops);

            async Task LoopAsync()
            {
                var ack = new byte[256];
                while (Interlocked.Decrement(ref remaining) >= 0)
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = contentType;
                    using var response = await client.PostAsync(stub.EventsEndpoint, content);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw new InvalidOperationException($"raw: the stub answered {response.StatusCode}.");
                    }

                    await using var stream = await response.Content.ReadAsStreamAsync();
                    while (await stream.ReadAsync(ack) > 0)
                    {
                    }
                }
            }
        }
    }

    private static byte[] RawRequest(PageView[] events)
    {
        var request = new SendEventRequest { ReqGuid = Guid.NewGuid().ToString(), SentTime = Timestamp.FromDateTime(DateTime.UtcNow) };
        foreach (var e in events)
        {
            request.Events.Add(new Event { EventBytes = e.ToByteString(), Type = "pageview", EventTimestamp = e.EventTime });
        }

        return request.ToByteArray();
    }
}

/// <summary>The peer's log record: the page view's fields as attributes (source-generated, no boxing of the values).</summary>
internal static partial class PeerLog
{
    public static void PageViewed(ILogger logger, PageView e) =>
        PageViewed(logger, e.EventGuid, e.SessionId, e.UserId, e.PageUrl, e.Referrer, e.UserAgent, e.ViewportWidth, e.ViewportHeight);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "page view {EventGuid} {SessionId} {UserId} {PageUrl} {Referrer} {UserAgent} {ViewportWidth}x{ViewportHeight}")]
    private static partial void PageViewed(
        ILogger logger, string eventGuid, string sessionId, string userId, string pageUrl, string referrer, string userAgent, int viewportWidth, int viewportHeight);
}
