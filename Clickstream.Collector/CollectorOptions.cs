namespace Clickstream.Collector;

/// <summary>Options of a <see cref="RaccoonCollector"/>; read once by <see cref="RaccoonCollector.StartAsync"/>.</summary>
public sealed class CollectorOptions
{
    /// <summary>
    /// The IP address to listen on, or <c>localhost</c> (taken as 127.0.0.1). <c>0.0.0.0</c> or <c>::</c> listen on
    /// every interface. The default value is <c>127.0.0.1</c>.
    /// </summary>
    public string Host { get; set; } = CollectorDefaults.Host;

    /// <summary>The TCP port, 0 to 65535; 0 lets the OS choose a free port. The default value is 0.</summary>
    public int Port { get; set; } = CollectorDefaults.Port;

    /// <summary>
    /// Whether to keep what was received: each accepted event's type and bytes, and each accepted request's
    /// <c>req_guid</c>, for <see cref="CollectorStats.ReceivedEvents"/> and <see cref="CollectorStats.RequestIds"/>.
    /// Turn it off for benchmarks and long runs: memory then stays flat and only counters are kept.
    /// The default value is <see langword="true"/>.
    /// </summary>
    public bool KeepEvents { get; set; } = CollectorDefaults.KeepEvents;

    /// <summary>
    /// The clock for the responses' <c>sent_time</c> and for <see cref="CollectorFaults.Delay"/>.
    /// The default value is <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
