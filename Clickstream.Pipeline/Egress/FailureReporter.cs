using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Transports;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// Tells the app about failed requests once per episode (<see cref="FailureEpisodes"/>): the first failure of each class
/// in an episode is logged (a configuration fault at Error, with its health event), later ones at Debug, and the first
/// ack after an episode logs how many requests failed in it.
/// </summary>
internal sealed class FailureReporter(ILogger logger, EgressDiagnostics diagnostics)
{
    private readonly FailureEpisodes _episodes = new();

    /// <summary>A request was acknowledged: ends the episode, if any, and logs that delivery is restored.</summary>
    public void OnAcknowledged()
    {
        if (_episodes.OnSuccess() is > 0 and var failures)
        {
            Log.DeliveryRestored(logger, failures);
        }
    }

    /// <summary>Logs the first failure of each class in an episode (later ones at Debug), and reports a configuration fault once.</summary>
    /// <param name="requestGuid">The failed request's req_guid.</param>
    /// <param name="events">The events in the failed batch.</param>
    /// <param name="outcome">The failure.</param>
    /// <param name="failureClass">The failure's class.</param>
    /// <param name="retried">The QoS1 events that are sent again.</param>
    /// <param name="delay">The delay before they are.</param>
    /// <param name="dropped">The QoS0 events dropped.</param>
    public void OnFailed(Guid requestGuid, int events, in SendOutcome outcome, FailureClass failureClass, int retried, TimeSpan delay, int dropped)
    {
        var kind = outcome.Result.ToString();
        if (!_episodes.OnFailure(failureClass))
        {
            Log.BatchFailedAgain(logger, requestGuid, events, kind, outcome.Detail, retried, delay, dropped);
        }
        else if (failureClass == FailureClass.Configuration)
        {
            Log.ConfigurationFault(logger, kind, outcome.StatusCode, outcome.Detail, delay);
            diagnostics.ConfigurationFault(outcome);
        }
        else
        {
            Log.BatchFailed(logger, requestGuid, events, kind, outcome.Detail, retried, delay, dropped);
        }
    }
}
