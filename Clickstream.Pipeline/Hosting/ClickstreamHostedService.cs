using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Clickstream.Pipeline.Hosting;

/// <summary>
/// Starts the pipeline with the host (its store is opened and an earlier run's events are scheduled, so a bad
/// <see cref="ClickstreamOptions.StoragePath"/> fails the start) and flushes it when the host stops, within
/// <see cref="ClickstreamOptions.ShutdownTimeout"/> and the host's own shutdown budget. The container disposes
/// the pipeline afterwards, which sends what was tracked after the flush, within the same timeout again.
/// </summary>
internal sealed partial class ClickstreamHostedService(ClickstreamPipeline pipeline, IOptions<ClickstreamOptions> options) : IHostedService
{
    private readonly ILogger _logger = (options.Value.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Clickstream.Pipeline");

    // The pipeline itself is created by the container when this service is; nothing more to start.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.ShutdownTimeout;
        // No limit (Timeout.InfiniteTimeSpan, TimeSpan.MaxValue): only the host's own budget stops the flush.
        using var budget = PipelineSettings.IsNoLimit(timeout) ? new CancellationTokenSource() : new CancellationTokenSource(timeout, options.Value.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        try
        {
            await pipeline.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            var statistics = pipeline.GetStatistics();
            FlushOnStopIncomplete(_logger, timeout, statistics.EventsPendingOnDisk);
        }
        catch (ObjectDisposedException)
        {
            // The app disposed the pipeline itself: it has delivered what it could already.
        }
    }

    [LoggerMessage(60, LogLevel.Warning, "The flush when the host stopped did not complete within {Timeout} (ShutdownTimeout) or the host's shutdown budget; {PendingOnDisk} QoS1 events on disk are sent at the next start")]
    private static partial void FlushOnStopIncomplete(ILogger logger, TimeSpan timeout, long pendingOnDisk);
}
