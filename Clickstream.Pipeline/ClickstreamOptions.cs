using System.Diagnostics.Metrics;
using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline;

/// <summary>
/// Settings of a <see cref="ClickstreamPipeline"/>. They are validated and copied by
/// <see cref="ClickstreamPipeline.Create(ClickstreamOptions)"/>: later changes to this instance do not
/// reach a pipeline that was already created.
/// </summary>
public sealed class ClickstreamOptions
{
    /// <summary>
    /// Where Raccoon listens, for the chosen <see cref="Transport"/>: the REST URL
    /// (<c>http://host:8080/api/v1/events</c>), the gRPC address (<c>http://host:8081</c>) or the WebSocket
    /// URL (<c>ws://host:8080/api/v1/events</c>); https and wss for TLS. Required.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The protocol. The default value is <see cref="ClickstreamTransport.Http"/> (REST with protobuf bodies).</summary>
    public ClickstreamTransport Transport { get; set; } = ClickstreamTransport.Http;

    /// <summary>
    /// Returns the <c>Authorization</c> header value (e.g. <c>Bearer …</c>); called before every request, and
    /// before every WebSocket connection, so tokens can rotate. The default value is <see langword="null"/> (no header).
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? AuthorizationProvider { get; set; }

    /// <summary>
    /// Validates the server's TLS certificate instead of the system's trust store, e.g. to pin a certificate.
    /// The default value is <see langword="null"/>: system trust.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }

    /// <summary>Settings of the WebSocket transport.</summary>
    public WebSocketTransportOptions WebSocket { get; } = new();

    /// <summary>
    /// The gRPC service of <c>SendEvent</c>. The default value is <c>raystack.raccoon.v1beta1.EventService</c>;
    /// older Raccoon servers use <c>odpf.raccoon.EventService</c> (wire-compatible otherwise).
    /// </summary>
    public string GrpcServiceName { get; set; } = ClickstreamDefaults.GrpcServiceName;

    /// <summary>
    /// The LiteDB file that holds QoS1 events until the server acknowledges them. One pipeline owns it at a time:
    /// <see cref="ClickstreamPipeline.Create(ClickstreamOptions)"/> locks it (the file <c>&lt;StoragePath&gt;.lock</c>
    /// beside it) until the pipeline is disposed or its process ends, and a second pipeline on the same path, in this
    /// process or another, fails with <see cref="ClickstreamStorageException"/>. The default value is
    /// <c>&lt;LocalApplicationData&gt;/clickstream/&lt;app&gt;/events.db</c>, where <c>&lt;app&gt;</c> is the entry
    /// assembly's name (the executable's name in a process without one), with characters a file name cannot hold
    /// replaced by <c>_</c>: each app has its own store. Two processes of the same app (two instances) need a
    /// path each.
    /// </summary>
    public string StoragePath { get; set; } = ClickstreamDefaults.StoragePath;

    /// <summary>Events per request at most. The default value is 500.</summary>
    public int MaxBatchSize { get; set; } = ClickstreamDefaults.MaxBatchSize;

    /// <summary>
    /// Bytes of events per request at most, counted as they are encoded on the wire. A single event larger
    /// than this is sent alone. The default value is 1,000,000.
    /// </summary>
    public int MaxBatchBytes { get; set; } = ClickstreamDefaults.MaxBatchBytes;

    /// <summary>
    /// The longest an event waits for its batch to fill: a batch is cut this long after its first event
    /// even when it is not full. The default value is 1 second.
    /// </summary>
    public TimeSpan MaxTimeBetweenTwoBatches { get; set; } = ClickstreamDefaults.MaxTimeBetweenTwoBatches;

    /// <summary>
    /// Event types sent as QoS0 (fire-and-forget, held in memory only). An entry matches the protobuf
    /// message name (<c>PageView</c>), its full name (<c>shop.v1.PageView</c>) or the Raccoon type
    /// (<c>pageview</c>), ignoring case. Every other event is QoS1: committed to disk before
    /// <see cref="ClickstreamPipeline.TrackAsync"/> completes and delivered at least once. Empty by default.
    /// </summary>
    public ICollection<string> InstantEventTypes { get; } = new List<string>();

    /// <summary>
    /// An optional prefix of every event's Raccoon <c>type</c>: with <c>shop</c>, a <c>PageView</c> is sent as
    /// <c>shop-pageview</c>. The default value is <see langword="null"/> (no prefix).
    /// </summary>
    public string? EventGroup { get; set; }

    /// <summary>
    /// The largest serialized event accepted by <see cref="ClickstreamPipeline.TrackAsync"/>. The default
    /// value is 1,000,000 bytes, Kafka's default <c>message.max.bytes</c> behind Raccoon.
    /// </summary>
    public int MaxEventBytes { get; set; } = ClickstreamDefaults.MaxEventBytes;

    /// <summary>
    /// QoS0 events held in memory at most (waiting for a batch, held while the network is unreachable, or in flight).
    /// What happens beyond it is <see cref="QueueFullMode"/>. The default value is 100,000.
    /// </summary>
    public int MaxQueuedEvents { get; set; } = ClickstreamDefaults.MaxQueuedEvents;

    /// <summary>
    /// What <see cref="ClickstreamPipeline.TrackAsync"/> does with a QoS0 event when <see cref="MaxQueuedEvents"/> are in
    /// memory: drop it, drop the oldest instead, or wait for room. The default value is
    /// <see cref="ClickstreamQueueFullMode.DropNewest"/>: tracking never slows the app.
    /// </summary>
    public ClickstreamQueueFullMode QueueFullMode { get; set; } = ClickstreamDefaults.QueueFullMode;

    /// <summary>
    /// QoS1 events held in memory at most, ready to be sent. Beyond it committed events stay on disk only
    /// and are read back in order as room frees up, so that a large backlog never fills memory.
    /// The default value is 20,000.
    /// </summary>
    public int MaxInMemoryStoredEvents { get; set; } = ClickstreamDefaults.MaxInMemoryStoredEvents;

    /// <summary>
    /// The most bytes of QoS1 events the store keeps, each event counted as its serialized size plus its type
    /// plus 256 bytes for the store's own overhead. When a commit passes it, the oldest events on disk are
    /// evicted (<see cref="ClickstreamStatistics.EventsEvictedOverCapacity"/>) until the store is 1/32 below it.
    /// The count overstates what the store's file takes per event, so the bound is conservative; beside it the
    /// file keeps a write-ahead log of up to about 8 MB, and a file left mostly empty is compacted. At most half
    /// of it is held in memory. Must be at least twice <see cref="MaxEventBytes"/>. The default value is
    /// 512 MiB: about 1.1 million events of 200 bytes, which holds a busy app's events through hours of outage
    /// and is still a size a phone or a laptop can spare.
    /// </summary>
    public long MaxStorageBytes { get; set; } = ClickstreamDefaults.MaxStorageBytes;

    /// <summary>
    /// The most QoS1 events the store keeps. When a commit passes it, the oldest events on disk are evicted
    /// (<see cref="ClickstreamStatistics.EventsEvictedOverCapacity"/>) until the store is 1/32 below it; at
    /// most half of it is held in memory. The default value is <see cref="long.MaxValue"/>, no bound by count:
    /// <see cref="MaxStorageBytes"/> already bounds the disk, and a count says little about disk use when
    /// event sizes vary.
    /// </summary>
    public long MaxStoredEvents { get; set; } = ClickstreamDefaults.MaxStoredEvents;

    /// <summary>
    /// How long a QoS1 event may wait in the store, from its timestamp on <see cref="TimeProvider"/>. Older
    /// events on disk are evicted (<see cref="ClickstreamStatistics.EventsEvictedExpired"/>), checked at start
    /// and every 1/16 of this time (at least every second, at most every hour). Events already held in memory
    /// to be sent next (at most <see cref="MaxInMemoryStoredEvents"/>) are not evicted.
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps events until they are sent. The default value is 7 days:
    /// the default retention of the Kafka topics behind Raccoon (<c>log.retention.hours</c> = 168), past which
    /// an event would arrive after the data it belongs with is gone.
    /// </summary>
    public TimeSpan EventTimeToLive { get; set; } = ClickstreamDefaults.EventTimeToLive;

    /// <summary>
    /// The most dead letters the store keeps (<see cref="ClickstreamPipeline.GetDeadLetters"/>): events the server
    /// refused on their own. When a new one passes it, the oldest are deleted, counted
    /// (<see cref="ClickstreamStatistics.DeadLettersEvicted"/>) and logged. Dead letters do not count against
    /// <see cref="MaxStorageBytes"/>. The default value is 10,000: enough to inspect a bad producer, a few MB of disk
    /// for events of a few hundred bytes.
    /// </summary>
    public int MaxDeadLetters { get; set; } = ClickstreamDefaults.MaxDeadLetters;

    /// <summary>
    /// When true, each group commit is flushed to the storage device (fsync of the LiteDB log file) before
    /// the TrackAsync calls it holds complete, so that committed QoS1 events survive power loss and operating
    /// system crashes, not only the process being killed. Each group commit then waits for the device: a
    /// caller that awaits each event alone pays a device flush per event, while concurrent callers share one
    /// per commit. The default value is <see langword="false"/>: a commit survives a killed process at once,
    /// and power loss once the log is synced (<see cref="DiskSyncInterval"/>).
    /// </summary>
    public bool FlushCommitsToDisk { get; set; }

    /// <summary>
    /// Without <see cref="FlushCommitsToDisk"/>: the longest a committed QoS1 event stays only in the operating
    /// system's cache. The store syncs its log to the device this long after a commit (one fsync per interval,
    /// only when something was committed), so a power cut or an OS crash loses at most the events committed in
    /// the last interval, instead of everything since the last checkpoint (up to 8 MiB of log).
    /// <see cref="Timeout.InfiniteTimeSpan"/> syncs only at checkpoints. Ignored with <see cref="FlushCommitsToDisk"/>,
    /// which syncs every commit. The default value is 1 second.
    /// </summary>
    public TimeSpan DiskSyncInterval { get; set; } = ClickstreamDefaults.DiskSyncInterval;

    /// <summary>
    /// Requests in flight at once (HTTP and gRPC; the WebSocket transport uses
    /// <see cref="WebSocketTransportOptions.MaxInFlightBatches"/>). The default value is 4.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = ClickstreamDefaults.MaxConcurrentRequests;

    /// <summary>How long one request may take before it counts as failed. The default value is 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = ClickstreamDefaults.RequestTimeout;

    /// <summary>The delay before a failed batch is sent again, doubled on each failure in a row. The default value is 1 second.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = ClickstreamDefaults.RetryBaseDelay;

    /// <summary>The cap of the retry delay. The default value is 30 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = ClickstreamDefaults.RetryMaxDelay;

    /// <summary>
    /// How often, at most, a server marked unreachable (after network failures or timeouts in a row) is probed: a
    /// cheap <c>GET /ping</c> (gRPC: the next call). Each probe waits a random time between half of it and all of it
    /// (the first few after the server went down wait less: an eighth, a quarter, a half of it), so many clients are
    /// spread over the interval; the first answer resumes delivery at once, whatever the failed batches' retry backoff.
    /// Its own cadence: the retry backoff (<see cref="RetryBaseDelay"/>, <see cref="RetryMaxDelay"/>) does not apply to
    /// probes. The default value is 2 seconds.
    /// </summary>
    public TimeSpan ProbeInterval { get; set; } = ClickstreamDefaults.ProbeInterval;

    /// <summary>
    /// How long <see cref="ClickstreamPipeline.DisposeAsync"/> may spend delivering what is left.
    /// QoS1 events not delivered by then stay on disk and are sent at the next start. <see cref="Timeout.InfiniteTimeSpan"/>,
    /// or a value past a timer's range such as <see cref="TimeSpan.MaxValue"/>, means no limit. Dispose then waits at most
    /// 2 seconds more for the sends it cancelled and for the <see cref="HealthObserver"/>; what ignores its cancellation is
    /// abandoned. The default value is 5 seconds.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = ClickstreamDefaults.ShutdownTimeout;

    /// <summary>
    /// Headers sent with every request, e.g. <c>X-User-ID</c> and <c>X-User-Group</c>: HTTP headers, gRPC
    /// metadata, or WebSocket upgrade headers. Empty by default.
    /// </summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The clock of every timer and timestamp of the pipeline. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the pipeline logs. The default value is <see langword="null"/> (no logging).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Creates the pipeline's <see cref="Meter"/> (named <c>Clickstream.Pipeline</c>), e.g. the host's from dependency
    /// injection, so that its metrics reach the app's listeners. The default value is <see langword="null"/>: the
    /// pipeline creates its own <see cref="Meter"/> and disposes it with the pipeline. Each pipeline's meter carries
    /// the tag <c>clickstream.pipeline.instance</c> (1, 2, ... in creation order), so several pipelines of one process
    /// report apart.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// Receives the pipeline's health events (<see cref="ClickstreamHealthEvent"/>: batch created, sent,
    /// acknowledged, failed, events dropped, connection failed...) to forward them elsewhere. Called serially and in
    /// order, on a thread-pool thread that holds no pipeline lock, once per batch or per failure, never once per event:
    /// it may call back into the pipeline; one that blocks delays only later health events (at most 10,000 wait).
    /// Whatever it throws is caught, counted and logged once; <see cref="IObserver{T}.OnCompleted"/> is called when
    /// the pipeline is disposed. The default value is <see langword="null"/>: health events are only counted
    /// (the <c>clickstream.health.events</c> instrument).
    /// </summary>
    public IObserver<ClickstreamHealthEvent>? HealthObserver { get; set; }

    /// <summary>
    /// An <see cref="HttpMessageHandler"/> for the HTTP and gRPC transports (a proxy, a test handler). The
    /// pipeline does not dispose it, and <see cref="ServerCertificateValidation"/> does not apply to it. The
    /// default value is <see langword="null"/>: the pipeline makes its own.
    /// </summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>
    /// An app-fed reachability signal (e.g. a mobile platform's connectivity API). While it says unreachable no
    /// batch is cut. <see cref="IClickstreamReachability.IsReachable"/> is read outside every pipeline lock (it may call
    /// back into the pipeline); if it throws, the signal counts as reachable. The default value is <see langword="null"/>:
    /// the pipeline's own detection only.
    /// </summary>
    public IClickstreamReachability? Reachability { get; set; }

    /// <summary>
    /// Hold batches while the OS reports no network (ignored for a loopback endpoint). The default value is <see langword="true"/>.
    /// </summary>
    public bool DetectNetworkChanges { get; set; } = true;}
