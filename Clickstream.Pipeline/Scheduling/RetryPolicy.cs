using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Scheduling;

/// <summary>What to do with a batch whose request failed.</summary>
internal enum FailureDisposition
{
    /// <summary>Transient (network, timeout, 5xx, 429, CODE_INTERNAL_ERROR …): send the same events again after the delay.</summary>
    Retry,

    /// <summary>
    /// The server refused the request itself (400, CODE_BAD_REQUEST, gRPC InvalidArgument …): sending it again
    /// cannot succeed. Split the batch to isolate the bad events, which are dead-lettered; deliver the rest.
    /// </summary>
    Permanent,
}

/// <summary>A decision of the <see cref="RetryPolicy"/>.</summary>
internal readonly record struct RetryDecision(FailureDisposition Disposition, TimeSpan Delay);

/// <summary>
/// The retry rules, as a small pure class (no I/O, no clock; the caller times the delay on its TimeProvider):
/// capped exponential backoff with full jitter over the failures in a row, shared by every batch so that many
/// batches failing together back off together; a server's <c>Retry-After</c> (429, 503) is honoured, up to
/// <see cref="MaxRetryAfter"/>; permanent rejections are told apart from transient failures.
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

    /// <summary>Records a failure and decides what becomes of its batch.</summary>
    public RetryDecision OnFailure(in SendOutcome outcome)
    {
        if (IsPermanent(outcome))
        {
            // Not the server's health: the backoff of the other batches is left as it is.
            return new RetryDecision(FailureDisposition.Permanent, TimeSpan.Zero);
        }

        TimeSpan delay;
        lock (_lock)
        {
            delay = _backoff.NextDelay();
        }

        if (outcome.RetryAfter is { } retryAfter && retryAfter > delay)
        {
            delay = retryAfter > MaxRetryAfter ? MaxRetryAfter : retryAfter;
        }

        return new RetryDecision(FailureDisposition.Retry, delay);
    }

    public void OnSuccess()
    {
        lock (_lock)
        {
            _backoff.Reset();
        }
    }

    /// <summary>
    /// Permanent: the request itself was refused (<see cref="SendResult.Rejected"/>). Throttling and auth failures
    /// have kinds of their own and are transient: a limit or a token can change, and dead-lettering events for
    /// them would lose data.
    /// </summary>
    public static bool IsPermanent(in SendOutcome outcome) => outcome.Result == SendResult.Rejected;
}
