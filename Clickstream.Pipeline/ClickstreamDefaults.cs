namespace Clickstream.Pipeline;

/// <summary>The default value of every option, in one place.</summary>
internal static class ClickstreamDefaults
{
    public const int MaxBatchSize = 500;
    public const int MaxBatchBytes = 1_000_000;
    public const int MaxEventBytes = 1_000_000;
    public const int MaxQueuedEvents = 100_000;
    public const int MaxInMemoryStoredEvents = 20_000;
    public const int MaxConcurrentRequests = 4;

    public const long MaxStorageBytes = 512L * 1024 * 1024;
    public const long MaxStoredEvents = long.MaxValue;

    public const string GrpcServiceName = "raystack.raccoon.v1beta1.EventService";

    /// <summary>Largest response body read from the server; Raccoon's are about 100 bytes.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    public static readonly TimeSpan MaxTimeBetweenTwoBatches = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan EventTimeToLive = TimeSpan.FromDays(7);

    public static string StoragePath => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "clickstream",
        "events.db");
}
