namespace Clickstream.Pipeline;

/// <summary>The default value of every option, in one place.</summary>
internal static class ClickstreamDefaults
{
    public const int MaxBatchSize = 500;
    public const int MaxBatchBytes = 1_000_000;
    public const int MaxEventBytes = 1_000_000;
    public const int MaxQueuedEvents = 100_000;
    public const ClickstreamQueueFullMode QueueFullMode = ClickstreamQueueFullMode.DropNewest;
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
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan EventTimeToLive = TimeSpan.FromDays(7);
    public static readonly TimeSpan DiskSyncInterval = TimeSpan.FromSeconds(1);

    /// <summary>Dead letters kept at most (<c>MaxDeadLetters</c>).</summary>
    public const int MaxDeadLetters = 10_000;

    /// <summary>The name of the app's folder when neither an entry assembly nor the process's file names the app.</summary>
    public const string UnknownAppName = "default";

    /// <summary>
    /// <c>&lt;LocalApplicationData&gt;/clickstream/&lt;app&gt;/events.db</c>, the app being the entry assembly's name (or,
    /// in a process without one, such as a native host, its executable's name): one store per app, so that two apps
    /// on their defaults never send each other's events.
    /// </summary>
    public static string StoragePath => StoragePathFor(
        System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? Path.GetFileNameWithoutExtension(Environment.ProcessPath));

    /// <summary>The default store of the app named <paramref name="appName"/> (null: no entry assembly).</summary>
    public static string StoragePathFor(string? appName) => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "clickstream",
        FolderName(appName),
        "events.db");

    /// <summary>
    /// <paramref name="appName"/> as one folder name valid on every file system: characters invalid in a file name
    /// on any OS become '_', and a name left empty or made of dots only becomes <see cref="UnknownAppName"/>.
    /// </summary>
    public static string FolderName(string? appName)
    {
        if (string.IsNullOrWhiteSpace(appName))
        {
            return UnknownAppName;
        }

        var name = new System.Text.StringBuilder(appName.Trim());
        for (var i = 0; i < name.Length; i++)
        {
            // The Windows set on every OS: a store folder name then means the same app everywhere.
            if (name[i] < ' ' || name[i] is '<' or '>' or ':' or '"' or '/' or '\\' or '|' or '?' or '*')
            {
                name[i] = '_';
            }
        }

        var folder = name.ToString().TrimEnd('.', ' ');
        return folder.Length == 0 ? UnknownAppName : folder;
    }
}
