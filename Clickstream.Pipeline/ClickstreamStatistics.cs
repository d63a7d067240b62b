namespace Clickstream.Pipeline;

/// <summary>
/// A snapshot of a pipeline's counters since it was created, from <see cref="ClickstreamPipeline.GetStatistics"/>.
/// </summary>
public sealed record ClickstreamStatistics
{
    /// <summary>QoS0 events accepted by TrackAsync (not counting those dropped on overflow).</summary>
    public long InstantEventsTracked { get; init; }

    /// <summary>QoS1 events handed to the store by TrackAsync.</summary>
    public long DurableEventsTracked { get; init; }

    /// <summary>QoS1 events committed to the store.</summary>
    public long EventsStored { get; init; }

    /// <summary>QoS1 events found in the store at start, left by an earlier run.</summary>
    public long EventsRecovered { get; init; }

    /// <summary>QoS1 events in the store now: committed and not yet acknowledged.</summary>
    public long EventsPendingOnDisk { get; init; }

    /// <summary>Events put on the wire, counting each attempt.</summary>
    public long EventsSent { get; init; }

    /// <summary>Events whose request the server acknowledged.</summary>
    public long EventsAcknowledged { get; init; }

    /// <summary>QoS0 events dropped because <see cref="ClickstreamOptions.MaxQueuedEvents"/> were waiting already.</summary>
    public long EventsDroppedOverflow { get; init; }

    /// <summary>QoS0 events dropped because their request failed (QoS0 is at-most-once: never re-sent).</summary>
    public long EventsDroppedSendFailed { get; init; }

    /// <summary>QoS0 events still in memory when the pipeline was disposed.</summary>
    public long EventsDroppedShutdown { get; init; }

    /// <summary>Events whose TrackAsync was cancelled before they were stored or sent.</summary>
    public long EventsCancelled { get; init; }

    /// <summary>QoS1 events whose commit failed (TrackAsync threw).</summary>
    public long EventsStoreFailed { get; init; }

    /// <summary>Requests sent.</summary>
    public long BatchesSent { get; init; }

    /// <summary>Requests the server acknowledged (2xx, SUCCESS, OK, matching <c>req_guid</c>).</summary>
    public long BatchesAcknowledged { get; init; }

    /// <summary>Requests that failed (error status, network error, timeout, bad or unmatched response).</summary>
    public long BatchesFailed { get; init; }

    /// <summary>Batches of QoS1 events scheduled again after a failure.</summary>
    public long BatchesRetried { get; init; }

    /// <summary>Group commits: transactions that committed one or more QoS1 events.</summary>
    public long StoreCommits { get; init; }

    /// <summary>Store operations that failed (IO errors and the like).</summary>
    public long StoreErrors { get; init; }

    /// <summary>Batches split in halves after the server refused them as a whole (400, CODE_BAD_REQUEST), to isolate the bad events.</summary>
    public long BatchesSplit { get; init; }

    /// <summary>QoS1 events the server refused on their own, moved to the store's dead letters with the reason.</summary>
    public long EventsDeadLettered { get; init; }

    /// <summary>Times the pipeline marked the server unreachable after network failures in a row.</summary>
    public long UnreachablePeriods { get; init; }

    /// <summary>Probes sent while the server was held unreachable (<c>GET /ping</c>).</summary>
    public long ReachabilityProbes { get; init; }

    /// <summary>Whether batches are cut now: not paused, the network up, the server answering.</summary>
    public bool IsReachable { get; init; }

    /// <summary>
    /// QoS1 events the store evicted, definitively failed: <see cref="EventsEvictedOverCapacity"/> plus
    /// <see cref="EventsEvictedExpired"/>.
    /// </summary>
    public long EventsEvicted => EventsEvictedOverCapacity + EventsEvictedExpired;

    /// <summary>
    /// QoS1 events evicted, oldest first, because the store passed <see cref="ClickstreamOptions.MaxStorageBytes"/>
    /// or <see cref="ClickstreamOptions.MaxStoredEvents"/>.
    /// </summary>
    public long EventsEvictedOverCapacity { get; init; }

    /// <summary>QoS1 events evicted because they were older than <see cref="ClickstreamOptions.EventTimeToLive"/>.</summary>
    public long EventsEvictedExpired { get; init; }

    /// <summary>Store files found corrupt or unreadable at start, moved aside (with a timestamp suffix) for a new one.</summary>
    public long StoreFilesMovedAside { get; init; }

    /// <summary>Times the store was closed after a failed write (disk full, IO error) and opened again.</summary>
    public long StoreReopens { get; init; }

    /// <summary>Times the store file, mostly free space, was rewritten smaller.</summary>
    public long StoreCompactions { get; init; }

    /// <summary>Times the store synced its log to the device by <see cref="ClickstreamOptions.DiskSyncInterval"/> (without <see cref="ClickstreamOptions.FlushCommitsToDisk"/>).</summary>
    public long StoreLogSyncs { get; init; }

    /// <summary>
    /// Failed requests of <see cref="BatchesFailed"/> that were transient: the network, a timeout, 5xx, 408, 429, an
    /// unreadable answer, or an exception from the app's own code in the send path (token provider, handler). Retried with backoff.
    /// </summary>
    public long BatchesFailedTransient { get; init; }

    /// <summary>
    /// Failed requests of <see cref="BatchesFailed"/> that said the deployment is wrong: 401, 403, 404, 405, 407, 415 and
    /// other 4xx not about the events, TLS, DNS, gRPC Unimplemented or NotFound. Retried with backoff; never dead-lettered.
    /// </summary>
    public long BatchesFailedConfiguration { get; init; }

    /// <summary>Failed requests of <see cref="BatchesFailed"/> refused for what they carry (400, 413, 422, CODE_BAD_REQUEST): split to isolate the events at fault.</summary>
    public long BatchesFailedRejected { get; init; }

    /// <summary>Dead letters deleted, the oldest first, to keep at most <see cref="ClickstreamOptions.MaxDeadLetters"/>.</summary>
    public long DeadLettersEvicted { get; init; }

    /// <summary>
    /// QoS1 events read from a damaged store file, before it was moved aside, and carried into the new store:
    /// they are sent as if nothing had happened.
    /// </summary>
    public long EventsSalvaged { get; init; }

    /// <summary>
    /// QoS1 events definitively failed because their bytes could not be read: a store segment with a corrupt payload
    /// (removed; the store goes on with the next), or a damaged store file (lost with it; those still held in memory
    /// when the damage was found are sent anyway).
    /// </summary>
    public long EventsUnreadable { get; init; }
}
