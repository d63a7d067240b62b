namespace Clickstream.Pipeline.Tests.Support;

/// <summary>An app's reachability signal that a test sets; <see cref="Set"/> raises <see cref="Changed"/> on the caller's thread.</summary>
internal sealed class ManualReachability(bool reachable) : IClickstreamReachability
{
    private volatile bool _reachable = reachable;

    public event EventHandler? Changed;

    public bool IsReachable => _reachable;

    public void Set(bool value)
    {
        _reachable = value;
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
