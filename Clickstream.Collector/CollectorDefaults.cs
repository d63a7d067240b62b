namespace Clickstream.Collector;

/// <summary>The collector's defaults and fixed paths, in one place.</summary>
internal static class CollectorDefaults
{
    /// <summary>Loopback only: a test collector should not be reachable from the network.</summary>
    public const string Host = "127.0.0.1";

    /// <summary>0 lets the OS choose a free port.</summary>
    public const int Port = 0;

    public const bool KeepEvents = true;

    /// <summary>Raccoon's REST events path (POST; GET is the WebSocket upgrade on a real server).</summary>
    public const string EventsPath = "/api/v1/events";

    /// <summary>Raccoon's health check path.</summary>
    public const string PingPath = "/ping";
}
