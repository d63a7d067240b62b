namespace Clickstream.Pipeline;

/// <summary>
/// A reachability signal an app feeds the pipeline (e.g. from a mobile platform's connectivity API): while
/// <see cref="IsReachable"/> is false no batch is cut; tracking goes on (QoS1 to disk, QoS0 to memory).
/// Set it with <see cref="ClickstreamOptions.Reachability"/>; the pipeline's own detection still applies.
/// </summary>
public interface IClickstreamReachability
{
    /// <summary>Whether the network is usable now.</summary>
    bool IsReachable { get; }

    /// <summary>Raised when <see cref="IsReachable"/> changes; the pipeline reads <see cref="IsReachable"/> again.</summary>
    event EventHandler? Changed;
}
