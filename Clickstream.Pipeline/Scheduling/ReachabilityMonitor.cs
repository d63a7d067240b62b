using System.Net;
using System.Net.NetworkInformation;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>
/// The scheduler's gate: batches are cut only while every signal says the server can be reached.
/// <list type="bullet">
/// <item>the app's own: <see cref="ClickstreamPipeline.Pause"/>/<see cref="ClickstreamPipeline.Resume"/> and an optional <see cref="IClickstreamReachability"/>;</item>
/// <item>the OS: <see cref="NetworkChange.NetworkAvailabilityChanged"/> (ignored for a loopback endpoint);</item>
/// <item>the server's: after <see cref="FailuresToTrip"/> network failures or timeouts in a row the server is
/// marked unreachable and probed (<see cref="ReachabilityProbe"/>) on a <see cref="ProbeSchedule"/> of its own
/// (<c>ProbeInterval</c>, never the batches' retry backoff) until it answers; the OS saying the network is back, the
/// app's signal saying reachable, or <see cref="ClickstreamPipeline.Resume"/> probe at once.</item>
/// </list>
/// While unreachable the request rate is the probe rate: no batch goes out, however long the outage lasts.
/// </summary>
/// <remarks>
/// The app's <see cref="IClickstreamReachability.IsReachable"/> is read outside the lock (it may call back into the
/// pipeline, or block) and applied under it, the newest read winning; if it throws, the app's signal counts as
/// reachable. Health events are only queued under the lock (<see cref="HealthReporter.Report"/> runs no app code).
/// A probe that fails in any way counts as unanswered: probing goes on.
/// </remarks>
internal sealed class ReachabilityMonitor : IDisposable
{
    private readonly Lock _lock = new();
    private readonly EventScheduler _scheduler;
    private readonly ReachabilityProbe _probe;
    private readonly IClickstreamReachability? _app;
    private readonly TimeProvider _timeProvider;
    private readonly PipelineCounters _counters;
    private readonly ILogger _logger;
    private readonly HealthReporter _health;
    private readonly ProbeSchedule _probeSchedule;
    private readonly bool _watchOs;
    private readonly ITimer _probeTimer;
    private readonly CancellationTokenSource _stopping = new();
    private bool _paused;
    private bool _osAvailable = true;
    private bool _serverDown;
    private int _failuresInARow;
    private bool _disposed;
    private bool _appReachable = true;
    private long _appReads;
    private long _appApplied;
    private int _appErrors;
    private int _probeErrorsLogged;

    /// <summary>Network failures or timeouts in a row that mark the server unreachable.</summary>
    public const int FailuresToTrip = 3;

    public ReachabilityMonitor(PipelineSettings settings, EventScheduler scheduler, ReachabilityProbe probe, PipelineCounters counters, ILogger logger, HealthReporter health)
    {
        _health = health;
        _scheduler = scheduler;
        _probe = probe;
        _app = settings.Reachability;
        _timeProvider = settings.TimeProvider;
        _counters = counters;
        _logger = logger;
        _probeSchedule = new ProbeSchedule(settings.ProbeInterval, settings.Random);
        _probeTimer = _timeProvider.CreateTimer(static s => ((ReachabilityMonitor)s!).OnProbeTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // A loopback collector is reachable whatever the machine's other interfaces say.
        _watchOs = settings.DetectNetworkChanges && !IsLoopback(settings.Endpoint);
        try
        {
            if (_watchOs)
            {
                _osAvailable = NetworkInterface.GetIsNetworkAvailable();
                NetworkChange.NetworkAvailabilityChanged += OnOsChanged;
            }

            if (_app is not null)
            {
                // App code: its event's add accessor may throw.
                _app.Changed += OnAppChanged;

                // Read the way a change is, so that a change raised meanwhile is not overwritten by this first read.
                OnAppChanged(this, EventArgs.Empty);
            }
            else
            {
                lock (_lock)
                {
                    Apply();
                }
            }
        }
        catch
        {
            // The OS handler is static: left subscribed it would keep this monitor, and the pipeline's parts, alive for good.
            // The probe is the caller's to release when this constructor throws.
            if (_watchOs)
            {
                NetworkChange.NetworkAvailabilityChanged -= OnOsChanged;
            }

            _probeTimer.Dispose();
            _stopping.Dispose();
            throw;
        }
    }

    public void SetPaused(bool paused)
    {
        lock (_lock)
        {
            _paused = paused;
            Apply();
            if (!paused)
            {
                ProbeNowIfDown();
            }
        }
    }

    /// <summary>The outcome of every request: a success clears the failures, network failures and timeouts count.</summary>
    public void OnOutcome(in SendOutcome outcome)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (outcome.Result is not (SendResult.NetworkError or SendResult.Timeout))
            {
                // Any answer from the server, even an error, proves it is reachable.
                _failuresInARow = 0;
                _probeSchedule.Reset();
                return;
            }

            if (++_failuresInARow < FailuresToTrip || _serverDown)
            {
                return;
            }

            _serverDown = true;
            Interlocked.Increment(ref _counters.UnreachablePeriods);
            Log.ServerUnreachable(_logger, _failuresInARow, outcome.Result.ToString(), outcome.Detail);
            _health.Report(ClickstreamHealthEventKind.ConnectionFailed, 0, reason: Telemetry.ResultName(outcome.Result), detail: outcome.Detail);
            Apply();
            ScheduleProbe();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _stopping.Cancel();
        _probeTimer.Dispose();
        if (_watchOs)
        {
            NetworkChange.NetworkAvailabilityChanged -= OnOsChanged;
        }

        if (_app is not null)
        {
            _app.Changed -= OnAppChanged;
        }

        _probe.Dispose();
        _stopping.Dispose();
    }

    private static bool IsLoopback(Uri endpoint) =>
        endpoint.IsLoopback || (IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private bool Combined() => !_paused && _osAvailable && !_serverDown && _appReachable;

    /// <summary>The app's signal, read outside the lock; a throwing signal counts as reachable, so that delivery goes on.</summary>
    private bool ReadApp()
    {
        try
        {
            return _app!.IsReachable;
        }
        catch (Exception ex)
        {
            if (Interlocked.Increment(ref _appErrors) == 1)
            {
                Log.ReachabilitySignalFailed(_logger, ex);
            }

            return true;
        }
    }

    /// <summary>Tells the scheduler; called under the lock.</summary>
    private void Apply()
    {
        var reachable = Combined();
        Volatile.Write(ref _counters.Reachable, reachable ? 1 : 0);
        _scheduler.SetReachable(reachable);
        _counters.NotifyChanged();
    }

    /// <summary>Arms the next probe on the probe cadence; under the lock.</summary>
    private void ScheduleProbe()
    {
        var delay = _probeSchedule.NextDelay();
        _probeTimer.Change(delay, Timeout.InfiniteTimeSpan);
        Volatile.Write(ref _counters.NextProbeDueTicks, (_timeProvider.GetUtcNow() + delay).UtcTicks);
        _counters.NotifyChanged();
    }

    /// <summary>
    /// A sign that the network is back (the OS, the app, a resume): probe now rather than at the next tick. Under the lock,
    /// so the probe itself starts on the thread pool. A probe already in flight may answer too; whichever answers first
    /// reopens the gate, and the other finds it open.
    /// </summary>
    private void ProbeNowIfDown()
    {
        if (_serverDown && !_disposed)
        {
            _probeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref _counters.NextProbeDueTicks, 0);
            ThreadPool.UnsafeQueueUserWorkItem(static monitor => monitor.OnProbeTimer(), this, preferLocal: false);
        }
    }

    private void OnProbeTimer()
    {
        Volatile.Write(ref _counters.NextProbeDueTicks, 0);
        _ = ProbeAsync();
    }

    private async Task ProbeAsync()
    {
        bool answered;
        try
        {
            answered = await _probe.ProbeAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The probe catches what a send can throw; anything else (an app handler's bug) must not end probing.
            answered = false;
            if (Interlocked.Exchange(ref _probeErrorsLogged, 1) == 0)
            {
                Log.ProbeFailed(_logger, ex.GetType().Name, ex);
            }
        }

        lock (_lock)
        {
            // Counted when answered (or not), under the lock: once the count shows it, its outcome is applied.
            Interlocked.Increment(ref _counters.ReachabilityProbes);
            if (_disposed || !_serverDown)
            {
                return;
            }

            if (!answered)
            {
                ScheduleProbe();
                _counters.NotifyChanged();
                return;
            }

            // Back, or (gRPC) half-open: the next batch is the probe, and one more failure trips again.
            _serverDown = false;
            _probeSchedule.Reset();
            _failuresInARow = _probe.CallIsTheProbe ? FailuresToTrip - 1 : 0;
            Volatile.Write(ref _probeErrorsLogged, 0);
            Log.ServerReachable(_logger);
            _health.Report(ClickstreamHealthEventKind.ConnectionRestored, 0);
            Apply();
        }
    }

    private void OnOsChanged(object? sender, NetworkAvailabilityEventArgs e)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _osAvailable = e.IsAvailable;
            Apply();
            if (e.IsAvailable)
            {
                ProbeNowIfDown();
            }
        }
    }

    private void OnAppChanged(object? sender, EventArgs e)
    {
        // Numbered before the read: of two reads racing, the one begun last saw the newest change, and it wins.
        var read = Interlocked.Increment(ref _appReads);
        var reachable = ReadApp();
        lock (_lock)
        {
            if (_disposed || read < _appApplied)
            {
                return;
            }

            _appApplied = read;
            _appReachable = reachable;
            Apply();
            if (reachable)
            {
                ProbeNowIfDown();
            }
        }
    }
}
