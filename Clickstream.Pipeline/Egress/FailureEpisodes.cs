using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// Episodes of failed requests: a run of failures between two acknowledged requests. The log and the health events say
/// what went wrong once per episode and class of failure (a server answering 503 and then 404 is reported twice), not
/// once per request, so an outage or a wrong endpoint cannot flood the app's log. Thread-safe; no I/O.
/// </summary>
internal sealed class FailureEpisodes
{
    private readonly Lock _lock = new();
    private int _failures;
    private int _reportedClasses;

    /// <summary>Failures since the last acknowledged request.</summary>
    public int Failures
    {
        get
        {
            lock (_lock)
            {
                return _failures;
            }
        }
    }

    /// <summary>Records a failure; true when it is the first of its class in the current episode (report it).</summary>
    public bool OnFailure(FailureClass failureClass)
    {
        var bit = 1 << (int)failureClass;
        lock (_lock)
        {
            _failures++;
            var first = (_reportedClasses & bit) == 0;
            _reportedClasses |= bit;
            return first;
        }
    }

    /// <summary>Ends the episode, if any; returns how many requests failed in it (0 when there was none).</summary>
    public int OnSuccess()
    {
        lock (_lock)
        {
            var failures = _failures;
            _failures = 0;
            _reportedClasses = 0;
            return failures;
        }
    }
}
