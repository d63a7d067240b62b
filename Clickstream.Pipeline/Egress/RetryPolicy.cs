using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Egress;

/// <summary>A decision of the <see cref="RetryPolicy"/>: the failure's class and, unless it is a rejection, the delay before the retry.</summary>
internal readonly record struct RetryDecision(FailureClass Class, TimeSpan Delay);

/// <summary>
/// The retry rules, as a small pure class (no I/O, no clock; the caller times the delay on its TimeProvider):
/// capped exponential backoff with full jitter over the failures in a row, shared by every batch so that many
/// batches failing together back off together; a server's <c>Retry-After</c> (429, 503) is honoured, up to
/// <see cref="MaxRetryAfter"/>; each failure is classed by <see cref="FailureClassifier"/>.
/// </summary>
/// <remarks>
/// Full jitter spreads the batches of one client, and the clients of one server, over the whole window, so that
/// an outage ends without a thundering herd. Thread-safe: the egress calls it from concurrent requests.
/// </remarks>
internal sealed class RetryPolicy
{
    /// <summary>A Retry-After longer than this is cut to it: a broken header must not park the pipeline for days.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(10);

    private readonly Lock _lock = new();
    private readonly JitteredBackoff _backoff;

    public RetryPolicy(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
    {
        _backoff = new JitteredBackoff(baseDelay, maxDelay, random);
    }

    public int FailuresInARow
    {
        get
        {
            lock (_lock)
            {
                return _backoff.FailuresInARow;
            }
        }
    }

    /// <summary>
    /// Records a failure and decides what becomes of its batch. A rejection is about the events, not the server's
    /// health: it leaves the shared backoff alone and has no delay (the egress asks <see cref="Backoff"/> when it must wait).
    /// </summary>
    public RetryDecision OnFailure(in SendOutcome outcome)
    {
        var failureClass = FailureClassifier.ClassOf(outcome.Result);
        return failureClass == FailureClass.Rejection
            ? new RetryDecision(failureClass, TimeSpan.Zero)
            : new RetryDecision(failureClass, NextDelay(outcome.RetryAfter));
    }

    /// <summary>Records a failure that is not the server's answer (a rejection while nothing is acknowledged, a store error) and returns its delay.</summary>
    public TimeSpan Backoff() => NextDelay(retryAfter: null);

    public void OnSuccess()
    {
        lock (_lock)
        {
            _backoff.Reset();
        }
    }

    private TimeSpan NextDelay(TimeSpan? retryAfter)
    {
        TimeSpan delay;
        lock (_lock)
        {
            delay = _backoff.NextDelay();
        }

        if (retryAfter is { } serverDelay && serverDelay > delay)
        {
            delay = serverDelay > MaxRetryAfter ? MaxRetryAfter : serverDelay;
        }

        return delay;
    }
}
