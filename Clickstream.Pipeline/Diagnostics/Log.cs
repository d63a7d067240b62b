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
}
