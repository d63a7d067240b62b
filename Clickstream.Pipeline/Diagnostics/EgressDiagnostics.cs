using System.Diagnostics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>
/// What the egress reports about each batch: the <c>clickstream.send</c> span and the histograms around each send,
/// the events in flight, and the batch's health events. Everything here runs once per batch, never per event.
/// </summary>
internal sealed class EgressDiagnostics
{
    private readonly PipelineMetrics _metrics;
    private readonly HealthReporter _health;
    private readonly PipelineCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly string _transport;
    private readonly string _serverAddress;
    private readonly int _serverPort;

    public EgressDiagnostics(PipelineMetrics metrics, HealthReporter health, PipelineCounters counters, PipelineSettings settings)
    {
        _metrics = metrics;
        _health = health;
        _counters = counters;
        _timeProvider = settings.TimeProvider;
        _transport = Telemetry.TransportName(settings.Transport);
        _serverAddress = settings.Endpoint.Host;
        _serverPort = settings.Endpoint.Port;
    }

    public void BatchCreated(int events) => _health.Report(ClickstreamHealthEventKind.BatchCreated, events);

    /// <summary>
    /// Sends through <paramref name="transport"/> inside a <c>clickstream.send</c> span (when something listens),
    /// and records the request's duration and size and its events in flight.
    /// </summary>
    public async Task<SendOutcome> SendAsync(IEventTransport transport, Guid requestGuid, EventEnvelope[] batch, CancellationToken cancellationToken)
    {
        _health.Report(ClickstreamHealthEventKind.BatchSent, batch.Length, requestGuid);
        var activity = StartActivity(requestGuid, batch);
        var started = _timeProvider.GetTimestamp();
        Interlocked.Add(ref _counters.EventsInFlight, batch.Length);
        SendOutcome? outcome = null;
        try
        {
            outcome = await transport.SendAsync(requestGuid, batch, cancellationToken).ConfigureAwait(false);
            _metrics.RecordRequest(_timeProvider.GetElapsedTime(started), batch.Length, outcome.Value.Result);
            return outcome.Value;
        }
        finally
        {
            Interlocked.Add(ref _counters.EventsInFlight, -batch.Length);
            if (activity is not null)
            {
                StopActivity(activity, outcome);
            }
        }
    }

    public void BatchAcknowledged(Guid requestGuid, int events)
    {
        _health.Report(ClickstreamHealthEventKind.BatchAcknowledged, events, requestGuid);
        _health.ReportLosses();
    }

    public void BatchFailed(Guid requestGuid, int events, in SendOutcome outcome)
    {
        _health.Report(ClickstreamHealthEventKind.BatchFailed, events, requestGuid, Telemetry.ResultName(outcome.Result), outcome.Detail);
        _health.ReportLosses();
    }

    /// <summary>The first configuration fault of an episode: the endpoint, path, credentials or a proxy look wrong.</summary>
    public void ConfigurationFault(in SendOutcome outcome) =>
        _health.Report(ClickstreamHealthEventKind.ConfigurationError, 0, reason: Telemetry.ResultName(outcome.Result), detail: outcome.Detail);

    public void BatchRetried(int events) => _health.Report(ClickstreamHealthEventKind.BatchRetried, events);

    public void EventDeadLettered(in SendOutcome outcome) =>
        _health.Report(ClickstreamHealthEventKind.EventDeadLettered, 1, reason: Telemetry.ResultName(outcome.Result), detail: outcome.Detail);

    private Activity? StartActivity(Guid requestGuid, EventEnvelope[] batch)
    {
        // StartActivity returns null, and nothing is allocated, unless a listener samples the span.
        var activity = Telemetry.Source.StartActivity(Telemetry.SendActivityName, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("clickstream.req_guid", requestGuid.ToString());
            activity.SetTag("clickstream.batch.events", batch.Length);
            activity.SetTag("clickstream.batch.bytes", RaccoonWire.RequestSize(batch, _timeProvider.GetUtcNow()));
            activity.SetTag("clickstream.transport", _transport);
            activity.SetTag("server.address", _serverAddress);
            activity.SetTag("server.port", _serverPort);
        }

        return activity;
    }

    private static void StopActivity(Activity activity, SendOutcome? outcome)
    {
        if (activity.IsAllDataRequested)
        {
            var result = outcome is { } answered ? Telemetry.ResultName(answered.Result) : "cancelled";
            activity.SetTag("clickstream.outcome", result);
            if (outcome is not { IsAcknowledged: true })
            {
                activity.SetTag("error.type", result);
                activity.SetStatus(ActivityStatusCode.Error, outcome?.Detail ?? result);
            }
        }

        activity.Dispose();
    }
}
