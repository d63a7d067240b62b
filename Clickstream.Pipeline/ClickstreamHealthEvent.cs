namespace Clickstream.Pipeline;

/// <summary>
/// What a <see cref="ClickstreamHealthEvent"/> reports, after the health events of the Clickstream mobile SDKs
/// (batch created, sent, acknowledged, failed, event dropped, connection failure...). Each kind is also counted by
/// the <c>clickstream.health.events</c> instrument, tagged <c>kind</c> with the snake_case name (<c>batch_sent</c>).
/// </summary>
public enum ClickstreamHealthEventKind
{
    /// <summary>A batch was cut and handed to the egress (a retried batch or a half of a split one counts again).</summary>
    BatchCreated,

    /// <summary>A batch's request was put on the wire; <see cref="ClickstreamHealthEvent.RequestGuid"/> names it.</summary>
    BatchSent,

    /// <summary>The server acknowledged a request: its events are delivered.</summary>
    BatchAcknowledged,

    /// <summary>
    /// A request failed; <see cref="ClickstreamHealthEvent.Reason"/> is the kind of failure (<c>network_error</c>,
    /// <c>timeout</c>, <c>server_error</c>, <c>rejected</c>, <c>throttled</c>, <c>unauthorized</c>, <c>invalid_response</c>,
    /// <c>misconfigured</c>, <c>app_error</c>).
    /// </summary>
    BatchFailed,

    /// <summary>The QoS1 events of a failed request were scheduled again after the retry delay.</summary>
    BatchRetried,

    /// <summary>
    /// Events were dropped, counted in aggregate per <see cref="ClickstreamHealthEvent.Reason"/> (<c>overflow</c>,
    /// <c>send_failed</c>, <c>shutdown</c>, <c>cancelled</c>, <c>store_failed</c>) since the last report: reported at
    /// the next request's outcome and at shutdown, never once per event.
    /// </summary>
    EventsDropped,

    /// <summary>
    /// QoS1 events were evicted from the store, counted in aggregate per <see cref="ClickstreamHealthEvent.Reason"/>
    /// (<c>over_capacity</c>, <c>expired</c>), reported like <see cref="EventsDropped"/>.
    /// </summary>
    EventsEvicted,

    /// <summary>An event the server refused on its own was moved to the dead letters.</summary>
    EventDeadLettered,

    /// <summary>The server was marked unreachable after network failures or timeouts in a row; batches are held and the server probed.</summary>
    ConnectionFailed,

    /// <summary>The server answered a probe after <see cref="ConnectionFailed"/>; batches resume.</summary>
    ConnectionRestored,

    /// <summary>
    /// Requests fail in a way that says the deployment is wrong, not the events or the server's health: a wrong path
    /// or method (404, 405), proxy credentials (407), content type (415), credentials (401, 403), TLS, DNS, or a gRPC
    /// service that is not there. <see cref="ClickstreamHealthEvent.Reason"/> is <c>misconfigured</c> or
    /// <c>unauthorized</c>. Reported once per episode (until a request is acknowledged); the QoS1 events wait on disk
    /// and are retried with backoff, never dead-lettered for it.
    /// </summary>
    ConfigurationError,
}

/// <summary>
/// One health event of a pipeline, passed to <see cref="ClickstreamOptions.HealthObserver"/>. A small value: reporting
/// one allocates nothing.
/// </summary>
public readonly record struct ClickstreamHealthEvent
{
    /// <summary>What happened.</summary>
    public ClickstreamHealthEventKind Kind { get; init; }

    /// <summary>When, on the pipeline's <see cref="ClickstreamOptions.TimeProvider"/>.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The events concerned: the batch's, or the number dropped, evicted or dead-lettered. Zero for connection events.</summary>
    public int EventCount { get; init; }

    /// <summary>The request's <c>req_guid</c> for batch events once it has one (sent, acknowledged, failed); otherwise <see langword="null"/>.</summary>
    public Guid? RequestGuid { get; init; }

    /// <summary>
    /// A short, fixed reason in snake_case: the failure kind of <see cref="ClickstreamHealthEventKind.BatchFailed"/>
    /// and <see cref="ClickstreamHealthEventKind.ConnectionFailed"/>, the drop or eviction reason; otherwise <see langword="null"/>.
    /// </summary>
    public string? Reason { get; init; }

    /// <summary>The server's message or the error, when there is one (never event data).</summary>
    public string? Detail { get; init; }
}
