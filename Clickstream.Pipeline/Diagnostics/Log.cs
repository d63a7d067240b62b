using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>Every log event of the pipeline, source-generated. Event payloads are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Clickstream pipeline started: endpoint {Endpoint}, store {StoragePath}, {Recovered} QoS1 events recovered from an earlier run")]
    public static partial void Started(ILogger logger, Uri endpoint, string storagePath, long recovered);

    [LoggerMessage(2, LogLevel.Warning, "Request {RequestGuid} of {EventCount} events failed ({Kind}: {Detail}); {Retried} QoS1 events retried in {Delay}, {Dropped} QoS0 events dropped")]
    public static partial void BatchFailed(ILogger logger, Guid requestGuid, int eventCount, string kind, string? detail, int retried, TimeSpan delay, int dropped);

    [LoggerMessage(3, LogLevel.Error, "Committing {EventCount} QoS1 events to the store failed")]
    public static partial void CommitFailed(ILogger logger, int eventCount, Exception exception);

    [LoggerMessage(4, LogLevel.Error, "A store operation ({Operation}) failed")]
    public static partial void StoreOperationFailed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(5, LogLevel.Error, "Unexpected error in pipeline stage {Stage}")]
    public static partial void StageFailed(ILogger logger, string stage, Exception exception);

    [LoggerMessage(6, LogLevel.Information, "Network marked {State}; batching {Action}")]
    public static partial void ReachabilityChanged(ILogger logger, string state, string action);

    [LoggerMessage(7, LogLevel.Warning, "Shutdown timed out after {Timeout}: {PendingOnDisk} QoS1 events stay on disk for the next start, {DroppedInMemory} QoS0 events dropped")]
    public static partial void ShutdownTimedOut(ILogger logger, TimeSpan timeout, long pendingOnDisk, long droppedInMemory);

    [LoggerMessage(8, LogLevel.Information, "Clickstream pipeline stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(10, LogLevel.Warning, "Server marked unreachable after {Failures} failures in a row (last: {Kind}: {Detail}); batches are held and the server is probed")]
    public static partial void ServerUnreachable(ILogger logger, int failures, string kind, string? detail);

    [LoggerMessage(11, LogLevel.Information, "Server reachable again; batches resume")]
    public static partial void ServerReachable(ILogger logger);

    [LoggerMessage(12, LogLevel.Warning, "The health observer threw; its exceptions are caught and counted, and only this first one is logged")]
    public static partial void HealthObserverFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "Requests fail with {Kind} ({Status}: {Detail}): the endpoint, its path, the credentials or a proxy look wrong. The QoS1 events wait on disk and are retried with backoff (next in {Delay}); logged once until a request succeeds")]
    public static partial void ConfigurationFault(ILogger logger, string kind, int status, string? detail, TimeSpan delay);

    [LoggerMessage(14, LogLevel.Debug, "Request {RequestGuid} of {EventCount} events failed again ({Kind}: {Detail}); {Retried} QoS1 events retried in {Delay}, {Dropped} QoS0 events dropped")]
    public static partial void BatchFailedAgain(ILogger logger, Guid requestGuid, int eventCount, string kind, string? detail, int retried, TimeSpan delay, int dropped);

    [LoggerMessage(15, LogLevel.Information, "Requests are acknowledged again after {Failures} failed in a row")]
    public static partial void DeliveryRestored(ILogger logger, int failures);

    [LoggerMessage(9, LogLevel.Error, "Event {EventGuid} of type {Type} was refused by the server ({Status}: {Reason}) and moved to the dead letters")]
    public static partial void EventDeadLettered(ILogger logger, Guid eventGuid, string type, int status, string? reason);

    [LoggerMessage(20, LogLevel.Information, "WebSocket connected to {Endpoint}")]
    public static partial void WebSocketConnected(ILogger logger, Uri endpoint);

    [LoggerMessage(21, LogLevel.Warning, "WebSocket connection to {Endpoint} failed ({Detail}); next attempt in {Delay} at the earliest")]
    public static partial void WebSocketConnectFailed(ILogger logger, Uri endpoint, string detail, TimeSpan delay);

    [LoggerMessage(22, LogLevel.Warning, "WebSocket connection to {Endpoint} ended ({Reason}); {InFlight} batches in flight failed; reconnecting in {Delay} at the earliest")]
    public static partial void WebSocketDropped(ILogger logger, Uri endpoint, string reason, int inFlight, TimeSpan delay);

    [LoggerMessage(23, LogLevel.Warning, "The collector at {Endpoint} refused the WebSocket connection ({Reason}); {InFlight} batches in flight failed; reconnecting with backoff, next in {Delay} at the earliest. Further refusals are not logged until a batch is acknowledged")]
    public static partial void WebSocketRefused(ILogger logger, Uri endpoint, string reason, int inFlight, TimeSpan delay);

    [LoggerMessage(24, LogLevel.Debug, "WebSocket response for req_guid '{RequestGuid}' matches no batch in flight (an ack after its timeout, or unknown); ignored")]
    public static partial void WebSocketUnmatchedResponse(ILogger logger, string requestGuid);

    [LoggerMessage(25, LogLevel.Warning, "A WebSocket response frame could not be read ({Detail}); ignored")]
    public static partial void WebSocketUnreadableResponse(ILogger logger, string detail);

    [LoggerMessage(26, LogLevel.Error, "Unexpected error in the WebSocket transport ({Task})")]
    public static partial void WebSocketTaskFailed(ILogger logger, string task, Exception exception);

    [LoggerMessage(40, LogLevel.Warning, "{Count} QoS1 events evicted from the store, oldest first ({Reason}); {StoredEvents} events of {StoredBytes} bytes left")]
    public static partial void EventsEvicted(ILogger logger, long count, string reason, long storedEvents, long storedBytes);

    [LoggerMessage(41, LogLevel.Error, "The store {StoragePath} could not be read ({Detail}); it was moved aside to {MovedTo} with its log, and a new store was started with what could still be read from it (see event 80)")]
    public static partial void StoreMovedAside(ILogger logger, string storagePath, string detail, string movedTo, Exception exception);

    [LoggerMessage(42, LogLevel.Debug, "The store was opened again after a failed operation")]
    public static partial void StoreReopened(ILogger logger);

    [LoggerMessage(43, LogLevel.Information, "The store was compacted from {BytesBefore} to {BytesAfter} bytes ({Events} events kept) in {ElapsedMilliseconds} ms")]
    public static partial void StoreCompacted(ILogger logger, long bytesBefore, long bytesAfter, long events, long elapsedMilliseconds);

    [LoggerMessage(44, LogLevel.Warning, "Compacting the store failed; it is kept as it was")]
    public static partial void StoreCompactionFailed(ILogger logger, Exception exception);

    [LoggerMessage(45, LogLevel.Warning, "The store file {Path} could not be made readable and writable by its owner only")]
    public static partial void StoreModeNotSet(ILogger logger, string path, Exception exception);

    [LoggerMessage(46, LogLevel.Information, "The store {Path} was migrated from format version {FromVersion} (one document per event) to {ToVersion} (segments)")]
    public static partial void StoreMigrated(ILogger logger, string path, int fromVersion, int toVersion);

    [LoggerMessage(47, LogLevel.Warning, "{Count} dead letters, the oldest, were deleted to keep at most {MaxDeadLetters} (ClickstreamOptions.MaxDeadLetters); {Total} evicted so far")]
    public static partial void DeadLettersEvicted(ILogger logger, int count, int maxDeadLetters, long total);

    [LoggerMessage(48, LogLevel.Information, "{Count} dead letters were moved back to the pending QoS1 events, to be sent again")]
    public static partial void DeadLettersRequeued(ILogger logger, int count);

    [LoggerMessage(49, LogLevel.Information, "{Count} dead letters were deleted")]
    public static partial void DeadLettersDeleted(ILogger logger, int count);

    [LoggerMessage(70, LogLevel.Warning, "The health observer is behind: {MaxQueued} health events wait for it; later ones are dropped and counted, and only this first drop is logged")]
    public static partial void HealthObserverBehind(ILogger logger, int maxQueued);

    [LoggerMessage(71, LogLevel.Warning, "The app's reachability signal (IClickstreamReachability.IsReachable) threw; it is read as reachable. Its exceptions are caught, and only this first one is logged")]
    public static partial void ReachabilitySignalFailed(ILogger logger, Exception exception);

    [LoggerMessage(72, LogLevel.Warning, "The reachability probe failed ({Detail}); the server stays marked unreachable and is probed again. Only the first failure of each outage is logged")]
    public static partial void ProbeFailed(ILogger logger, string detail, Exception exception);

    [LoggerMessage(73, LogLevel.Warning, "Shutdown: {Stage} did not end within the shutdown grace of {Grace} after the sends were cancelled (app code that ignores its cancellation token?); it is abandoned and the store closed")]
    public static partial void ShutdownAbandoned(ILogger logger, string stage, TimeSpan grace);

    [LoggerMessage(53, LogLevel.Error, "The store's segment {FirstId} cannot be read ({Detail}); its {Count} QoS1 events on disk only were dropped as unreadable and the store goes on after it")]
    public static partial void SegmentUnreadable(ILogger logger, long firstId, long count, string detail, Exception exception);

    [LoggerMessage(90, LogLevel.Debug, "Reachability back: {Batches} batches ({Events} events) that waited at the gate sent at once, oldest first")]
    public static partial void WaitingBatchesReleased(ILogger logger, int batches, int events);

    [LoggerMessage(80, LogLevel.Warning, "{Salvaged} QoS1 events were carried from the damaged store {MovedTo} into the new one; {Unreadable} could not be read and are lost")]
    public static partial void StoreSalvaged(ILogger logger, string movedTo, long salvaged, long unreadable);

    [LoggerMessage(81, LogLevel.Error, "The store {StoragePath} was found damaged while in use (LiteDB reported an internal inconsistency); it was moved aside to {MovedTo} and replaced by a new store")]
    public static partial void StoreDamagedInUse(ILogger logger, string storagePath, string movedTo);
}
