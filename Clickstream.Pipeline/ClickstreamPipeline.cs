using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Egress;
using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Storage;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline;

/// <summary>
/// Delivers an app's protobuf events to a Raccoon collector, in batches. QoS1 events (the default) are
/// committed to a local LiteDB file before <see cref="TrackAsync"/> completes and are delivered at least
/// once, across crashes and restarts; QoS0 events (<see cref="ClickstreamOptions.InstantEventTypes"/>) are
/// held in memory only and delivered at most once.
/// </summary>
/// <example>
/// <code>
/// await using var pipeline = ClickstreamPipeline.Create(new ClickstreamOptions { Endpoint = new("http://raccoon:8080/api/v1/events") });
/// await pipeline.TrackAsync(new PageView { ... });
/// </code>
/// </example>
public sealed class ClickstreamPipeline : IAsyncDisposable
{
    private readonly PipelineSettings _settings;
    private readonly PipelineCounters _counters = new();
    private readonly ILogger _logger;
    private readonly EventTypeRegistry _types;
    private readonly EventStore _store;
    private readonly EventScheduler _scheduler;
    private readonly IEventTransport _transport;
    private readonly EgressController _egress;
    private readonly PipelineGraph _graph;
    private readonly ReachabilityMonitor _reachability;
    private readonly HealthReporter _health;
    private readonly PipelineMetrics _metrics;
    private readonly DeliveryEpochs _epochs;
    private readonly InstantBudget _budget;
    private readonly EventIntake _intake;
    private readonly DeadLetterQueue _deadLetters;
    private int _disposed;

    private ClickstreamPipeline(PipelineSettings settings, Func<PipelineSettings, IEventTransport> transportFactory)
    {
        _settings = settings;
        _logger = settings.LoggerFactory.CreateLogger("Clickstream.Pipeline");
        _types = new EventTypeRegistry(settings.InstantEventTypes, settings.EventGroup);
        if (settings.InstantEventTypes.Count > 0)
        {
            EnvelopePool.KeepUpTo(settings.MaxQueuedEvents);
        }

        _budget = new InstantBudget(settings.MaxQueuedEvents, settings.QueueFullMode);
        _store = EventStore.Open(EventStoreOptions.From(settings), _counters, _logger);
        ReachabilityProbe? probe = null;
        try
        {
            _health = new HealthReporter(settings.HealthObserver, _counters, settings.TimeProvider, _logger);
            _metrics = new PipelineMetrics(settings.MeterFactory, _counters, _types, _health, () => _budget.InMemory, () => _store.InMemoryCount);
            _epochs = new DeliveryEpochs(_store.RecoveredCount, _store.LastId);
            var chunks = new ChunkPool(PipelineGraph.ChunkLength(settings.MaxBatchSize));
            _scheduler = new EventScheduler(settings.MaxBatchSize, settings.MaxBatchBytes, settings.MaxTimeBetweenTwoBatches, settings.TimeProvider, _logger, _budget, _counters, chunks: chunks);
            _transport = transportFactory(settings);
            probe = new ReachabilityProbe(settings);
            _reachability = new ReachabilityMonitor(settings, _scheduler, probe, _counters, _logger, _health);
            _egress = new EgressController(
                _transport,
                _store,
                _scheduler.Input,
                _reachability,
                new RetryPolicy(settings.RetryBaseDelay, settings.RetryMaxDelay, settings.Random),
                _counters,
                // On one WebSocket the window of batches in flight is the transport's; elsewhere, requests at once.
                settings.Transport == ClickstreamTransport.WebSocket ? settings.WebSocket.MaxInFlightBatches : settings.MaxConcurrentRequests,
                settings.TimeProvider,
                _logger,
                _budget,
                new EgressDiagnostics(_metrics, _health, _counters, settings),
                SendDeadline(settings),
                chunks);
            _graph = new PipelineGraph(new EventProcessor(_store.LastId, _epochs, _counters, _logger, InlineTaskScheduler.Instance), _store, _scheduler, _egress, _budget, _epochs, _types, chunks, settings.TimeProvider, _logger);
            _intake = new EventIntake(_graph, _types, _budget, _counters, settings.TimeProvider);
            _deadLetters = new DeadLetterQueue(_store, _graph, _types, settings.TimeProvider, _logger);
        }
        catch
        {
            // Whatever step threw (often app code: a transport factory, a reachability signal), what was made before it
            // is released: the OS network-change handler, the transport's connections, and the store file.
            ReleasePartial(probe);
            throw;
        }

        Log.Started(_logger, settings.LoggedEndpoint, settings.StoragePath, _store.RecoveredCount);
    }

    /// <summary>
    /// Validates <paramref name="options"/>, opens the store and starts the pipeline. Events left in the store
    /// by an earlier run (pending or in flight) are scheduled again.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid; the message lists every invalid option.</exception>
    /// <exception cref="ClickstreamStorageException">
    /// The store file cannot be opened or created (permissions, an IO error, a full disk). A file that opens but
    /// cannot be read as a store is not an error: it is moved aside and a new one started
    /// (<see cref="ClickstreamStatistics.StoreFilesMovedAside"/>).
    /// </exception>
    public static ClickstreamPipeline Create(ClickstreamOptions options) => Create(options, hooks: null);

    /// <summary>
    /// <see cref="Create(ClickstreamOptions)"/> with what only the library itself passes: the test and crash-test
    /// <paramref name="hooks"/>, a transport of a test's making, and the container's <see cref="IHttpClientFactory"/>
    /// (<c>AddClickstream</c>).
    /// </summary>
    internal static ClickstreamPipeline Create(
        ClickstreamOptions options,
        PipelineHooks? hooks = null,
        Func<PipelineSettings, IEventTransport>? transportFactory = null,
        IHttpClientFactory? httpClientFactory = null) =>
        new(PipelineSettings.Create(options, hooks, httpClientFactory), transportFactory ?? TransportFactory.Create);

    /// <summary>
    /// Tracks one event. A QoS1 event is committed to the store when the returned task completes; a QoS0
    /// event is accepted in memory; when <see cref="ClickstreamOptions.MaxQueuedEvents"/> are there already, it is
    /// dropped and counted, or the oldest are, or the returned task waits for room (<see cref="ClickstreamOptions.QueueFullMode"/>).
    /// The message is serialized before this method returns, so the caller may reuse it.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    /// <exception cref="ArgumentException">The serialized event is larger than <see cref="ClickstreamOptions.MaxEventBytes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The pipeline was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the event was stored; it is neither stored nor sent.</exception>
    /// <exception cref="ClickstreamStorageException">A QoS1 event could not be committed (disk full, IO error).</exception>
    public ValueTask TrackAsync(IMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var size = message.CalculateSize();
        if (size > _settings.MaxEventBytes)
        {
            throw new ArgumentException(
                $"The event is {size} bytes serialized, over the limit of {_settings.MaxEventBytes} bytes ({nameof(ClickstreamOptions)}.{nameof(ClickstreamOptions.MaxEventBytes)}).",
                nameof(message));
        }

        return _intake.WriteAsync(message, size, cancellationToken);
    }

    /// <summary>
    /// Completes when every event tracked before this call has been acknowledged by the server or has
    /// definitively failed. Cuts the open batch at once instead of waiting for the batch timer. Never blocks
    /// a thread; while the network is unreachable it waits until it is back or the token is cancelled.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The pipeline was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; delivery goes on.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return FlushCoreAsync(cancellationToken);
    }

    /// <summary>Stops cutting batches, as when the network is unreachable. Tracking goes on: QoS1 to disk, QoS0 to memory.</summary>
    public void Pause() => _reachability.SetPaused(true);

    /// <summary>Cuts batches again after <see cref="Pause"/>; what waited is sent in order.</summary>
    public void Resume() => _reachability.SetPaused(false);

    /// <summary>
    /// The newest events the server refused on their own (after their batch was split to isolate them), kept in
    /// the store instead of being retried forever (at most <see cref="ClickstreamOptions.MaxDeadLetters"/>).
    /// </summary>
    /// <param name="max">How many at most.</param>
    public IReadOnlyList<ClickstreamDeadLetter> GetDeadLetters(int max = 100)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _deadLetters.Read(max);
    }

    /// <summary>
    /// Moves dead letters back to the pending QoS1 events, to be sent again, e.g. once the server accepts them again:
    /// those with the given <see cref="ClickstreamDeadLetter.Id"/>s (ids that name no dead letter are ignored), or all
    /// of them. Each one is committed as a new QoS1 event (a new id, the time of the requeue as its timestamp, the same
    /// bytes and type) in the transaction that deletes its dead letter, so it is pending or dead-lettered, never both
    /// and never neither. It is then delivered like any QoS1 event, within the memory budget, and a
    /// <see cref="FlushAsync"/> called after this completes waits for it; a server that refuses it again dead-letters
    /// it again.
    /// </summary>
    /// <param name="ids">The dead letters' <see cref="ClickstreamDeadLetter.Id"/>s; null: every dead letter.</param>
    /// <param name="cancellationToken">Stops requeuing; the dead letters not requeued yet stay.</param>
    /// <returns>How many dead letters were requeued.</returns>
    /// <exception cref="ObjectDisposedException">The pipeline was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ClickstreamStorageException">The store could not commit them; they stay dead letters.</exception>
    public Task<int> RequeueDeadLettersAsync(IEnumerable<long>? ids = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _deadLetters.RequeueAsync(ids?.ToArray(), cancellationToken);
    }

    /// <summary>
    /// Deletes dead letters, in one transaction: those with the given <see cref="ClickstreamDeadLetter.Id"/>s (ids that
    /// name no dead letter are ignored), or all of them.
    /// </summary>
    /// <param name="ids">The dead letters' <see cref="ClickstreamDeadLetter.Id"/>s; null: every dead letter.</param>
    /// <param name="cancellationToken">Cancels waiting for an earlier requeue or deletion; once queued, the deletion happens.</param>
    /// <returns>How many dead letters were deleted.</returns>
    /// <exception cref="ObjectDisposedException">The pipeline was disposed.</exception>
    /// <exception cref="ClickstreamStorageException">The store could not delete them; they stay.</exception>
    public Task<int> DeleteDeadLettersAsync(IEnumerable<long>? ids = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _deadLetters.DeleteAsync(ids?.ToArray(), cancellationToken);
    }

    /// <summary>A snapshot of the pipeline's counters.</summary>
    public ClickstreamStatistics GetStatistics() => _counters.Snapshot();

    /// <summary>
    /// Stops taking events, delivers what it can within <see cref="ClickstreamOptions.ShutdownTimeout"/>, and
    /// closes the store. QoS1 events not delivered stay on disk and are sent at the next start; QoS0 events
    /// still in memory are counted as dropped. Returns within <see cref="ClickstreamOptions.ShutdownTimeout"/> plus a
    /// grace of 2 seconds whatever app code in the path does (a handler or provider that ignores its token is abandoned).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var marker = new FlushMarker();
        _graph.TryWrite(new EventEnvelope(marker));
        await _graph.CompleteIngressAsync().ConfigureAwait(false);

        var timeout = _settings.ShutdownTimeout;
        if (timeout > TimeSpan.Zero || PipelineSettings.IsNoLimit(timeout))
        {
            try
            {
                var delivered = await marker.Sealed.ConfigureAwait(false);
                await (PipelineSettings.IsNoLimit(timeout) ? delivered : delivered.WaitAsync(timeout, _settings.TimeProvider)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.ShutdownTimedOut(_logger, timeout, Volatile.Read(ref _counters.PendingOnDisk), _budget.InMemory);
            }
        }

        marker.End();
        _reachability.Dispose();
        var egressStopped = _graph.StopAsync();

        // Stop cancelled the sends in flight; one that ignores its token (an app handler, a provider) is abandoned after
        // the grace: its late outcome finds the store closed, and its QoS1 events, still on disk, go at the next start.
        var grace = _settings.TimeProvider.GetTimestamp();
        try
        {
            if (!await CompletesWithinGraceAsync(egressStopped, grace).ConfigureAwait(false))
            {
                Log.ShutdownAbandoned(_logger, "a send in flight", ShutdownGrace);
            }
        }
        catch (Exception ex)
        {
            Log.StageFailed(_logger, "egress shutdown", ex);
        }

        _store.Dispose();
        _transport.Dispose();
        Interlocked.Add(ref _counters.DroppedShutdown, _budget.TakeAll());
        _health.Complete();

        // The observer gets every health event and OnCompleted before this returns, unless it hangs past the grace.
        if (!await CompletesWithinGraceAsync(_health.WhenDelivered(), grace).ConfigureAwait(false))
        {
            Log.ShutdownAbandoned(_logger, "the health observer", ShutdownGrace);
        }

        _metrics.Dispose();
        _counters.NotifyChanged();
        Log.Stopped(_logger);
    }

    /// <summary>The live counters, for tests that wait for a condition without polling.</summary>
    internal PipelineCounters Counters => _counters;

    /// <summary>The <c>clickstream.pipeline.instance</c> tag of this pipeline's meter.</summary>
    internal string MetricsInstance => _metrics.Instance;

    /// <summary>Events waiting in the scheduler while the network is unreachable.</summary>
    internal int HeldEvents => _scheduler.HeldCount;

    private async Task FlushCoreAsync(CancellationToken cancellationToken)
    {
        var marker = new FlushMarker();
        if (!_graph.TryWrite(new EventEnvelope(marker)))
        {
            throw new ObjectDisposedException(nameof(ClickstreamPipeline));
        }

        try
        {
            var delivered = await marker.Sealed.WaitAsync(cancellationToken).ConfigureAwait(false);
            await delivered.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            marker.End();
        }
    }

    /// <summary>
    /// How long one send may run before the egress abandons it: the transport's own timeout (the request, and on
    /// WebSocket the ack after it) plus a second, so that a timeout the transport reports itself wins, and only a send
    /// whose code ignores its cancellation token is abandoned.
    /// </summary>
    private static TimeSpan SendDeadline(PipelineSettings settings) =>
        settings.RequestTimeout + (settings.Transport == ClickstreamTransport.WebSocket ? settings.WebSocket.AckTimeout : TimeSpan.Zero) + TimeSpan.FromSeconds(1);

    /// <summary>How long dispose waits, after it cancelled the sends, for them and the health observer to finish.</summary>
    internal static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);

    /// <summary>Epochs sealed by flushes so far: bounded by the flushes that had events before them.</summary>
    internal long EpochsSealed => _epochs.SealCount;

    /// <summary>Completes once every health event reported so far was passed to the observer.</summary>
    internal Task HealthDelivered => _health.WhenDelivered();

    /// <summary>Waits for <paramref name="task"/> until <see cref="ShutdownGrace"/> after <paramref name="since"/>; false if it is still running.</summary>
    private async Task<bool> CompletesWithinGraceAsync(Task task, long since)
    {
        if (!task.IsCompleted)
        {
            var left = ShutdownGrace - _settings.TimeProvider.GetElapsedTime(since);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await task.WaitAsync(left, _settings.TimeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        await task.ConfigureAwait(false);
        return true;
    }

    /// <summary>A constructor step threw: releases, newest first, whatever the steps before it made.</summary>
    private void ReleasePartial(ReachabilityProbe? probe)
    {
        // Fields not assigned yet are null here, whatever their declared type says.
        _egress?.Stop();
        if (_reachability is not null)
        {
            _reachability.Dispose();
        }
        else
        {
            probe?.Dispose();
        }

        _scheduler?.Complete();
        _transport?.Dispose();
        _metrics?.Dispose();
        _store.Dispose();
    }
}
