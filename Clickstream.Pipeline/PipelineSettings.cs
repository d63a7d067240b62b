using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Security;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clickstream.Pipeline;

/// <summary>
/// A validated, immutable copy of <see cref="ClickstreamOptions"/>: what the stages read. Copying at
/// creation keeps later edits of the options from leaking into a running pipeline.
/// </summary>
internal sealed class PipelineSettings
{
    private PipelineSettings(ClickstreamOptions o, PipelineHooks hooks, IHttpClientFactory? httpClientFactory)
    {
        Endpoint = o.Endpoint!;
        LoggedEndpoint = Redact(Endpoint);
        StoragePath = Path.GetFullPath(o.StoragePath);
        MaxBatchSize = o.MaxBatchSize;
        MaxBatchBytes = o.MaxBatchBytes;
        MaxTimeBetweenTwoBatches = o.MaxTimeBetweenTwoBatches;
        InstantEventTypes = o.InstantEventTypes.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        EventGroup = string.IsNullOrEmpty(o.EventGroup) ? null : o.EventGroup;
        MaxEventBytes = o.MaxEventBytes;
        MaxQueuedEvents = o.MaxQueuedEvents;
        QueueFullMode = o.QueueFullMode;
        MaxInMemoryStoredEvents = o.MaxInMemoryStoredEvents;
        MaxStorageBytes = o.MaxStorageBytes;
        MaxStoredEvents = o.MaxStoredEvents;
        EventTimeToLive = o.EventTimeToLive;
        MaxDeadLetters = o.MaxDeadLetters;
        FlushCommitsToDisk = o.FlushCommitsToDisk;
        DiskSyncInterval = o.DiskSyncInterval;
        StoreFileSystem = hooks.FileSystem;
        StoreTestHooks = hooks.StoreTestHooks;
        MaxConcurrentRequests = o.MaxConcurrentRequests;
        RequestTimeout = o.RequestTimeout;
        RetryBaseDelay = o.RetryBaseDelay;
        RetryMaxDelay = o.RetryMaxDelay;
        ProbeInterval = o.ProbeInterval;
        ShutdownTimeout = o.ShutdownTimeout;
        Headers = o.Headers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        TimeProvider = o.TimeProvider;
        LoggerFactory = o.LoggerFactory ?? NullLoggerFactory.Instance;
        MeterFactory = o.MeterFactory;
        HealthObserver = o.HealthObserver;
        HttpMessageHandler = o.HttpMessageHandler;

        // A handler set in code is the app's explicit choice; the container's factory is used only without one.
        HttpClientFactory = o.HttpMessageHandler is null ? httpClientFactory : null;
        Transport = o.Transport;
        AuthorizationProvider = o.AuthorizationProvider;
        ServerCertificateValidation = o.ServerCertificateValidation;
        WebSocket = o.WebSocket.Clone();
        GrpcServiceName = o.GrpcServiceName;
        Random = hooks.Random;
        Reachability = o.Reachability;
        DetectNetworkChanges = o.DetectNetworkChanges;
    }

    public Uri Endpoint { get; }

    /// <summary><see cref="Endpoint"/> with its user info (<c>user:pass@</c>) redacted: the only form that may reach logs, spans, health events and messages.</summary>
    public Uri LoggedEndpoint { get; }
    public string StoragePath { get; }
    public int MaxBatchSize { get; }
    public int MaxBatchBytes { get; }
    public TimeSpan MaxTimeBetweenTwoBatches { get; }
    public FrozenSet<string> InstantEventTypes { get; }
    public string? EventGroup { get; }
    public int MaxEventBytes { get; }
    public int MaxQueuedEvents { get; }

    public ClickstreamQueueFullMode QueueFullMode { get; }
    public int MaxInMemoryStoredEvents { get; }
    public long MaxStorageBytes { get; }
    public long MaxStoredEvents { get; }
    public TimeSpan EventTimeToLive { get; }
    public int MaxDeadLetters { get; }
    public bool FlushCommitsToDisk { get; }

    public TimeSpan DiskSyncInterval { get; }
    public Storage.StoreFileSystem StoreFileSystem { get; }
    public Storage.StoreTestHooks? StoreTestHooks { get; }
    public int MaxConcurrentRequests { get; }
    public TimeSpan RequestTimeout { get; }
    public TimeSpan RetryBaseDelay { get; }
    public TimeSpan RetryMaxDelay { get; }
    public TimeSpan ProbeInterval { get; }
    public TimeSpan ShutdownTimeout { get; }
    public FrozenDictionary<string, string> Headers { get; }
    public TimeProvider TimeProvider { get; }
    public ILoggerFactory LoggerFactory { get; }
    public IMeterFactory? MeterFactory { get; }
    public IObserver<ClickstreamHealthEvent>? HealthObserver { get; }
    public HttpMessageHandler? HttpMessageHandler { get; }

    /// <summary>
    /// Under <c>AddClickstream</c>: the REST transports and the reachability probe take their <see cref="HttpClient"/>
    /// from it (the named client <c>ClickstreamServiceCollectionExtensions.HttpClientName</c>), so that an app's
    /// <see cref="DelegatingHandler"/>s see every request. Null with an app's <see cref="HttpMessageHandler"/>.
    /// </summary>
    public IHttpClientFactory? HttpClientFactory { get; }
    public ClickstreamTransport Transport { get; }
    public Func<CancellationToken, ValueTask<string>>? AuthorizationProvider { get; }
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; }
    public WebSocketTransportOptions WebSocket { get; }
    public string GrpcServiceName { get; }
    public Random Random { get; }
    public IClickstreamReachability? Reachability { get; }
    public bool DetectNetworkChanges { get; }

    /// <summary>
    /// The URI with any user info replaced by <c>REDACTED:REDACTED</c> (OpenTelemetry's rule for <c>url.full</c>), so that
    /// credentials in an endpoint never reach a log; a relative URI is returned as it is.
    /// </summary>
    public static Uri Redact(Uri uri)
    {
        if (!uri.IsAbsoluteUri || uri.UserInfo.Length == 0)
        {
            return uri;
        }

        return new UriBuilder(uri) { UserName = "REDACTED", Password = "REDACTED" }.Uri;
    }

    /// <summary>
    /// Whether <see cref="ClickstreamOptions.ShutdownTimeout"/> means no limit: <see cref="Timeout.InfiniteTimeSpan"/>, or
    /// more than a timer can wait (about 49.7 days, e.g. <see cref="TimeSpan.MaxValue"/>).
    /// </summary>
    public static bool IsNoLimit(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan || timeout > MaxTimerDelay;

    /// <summary>The longest delay a <see cref="TimeProvider"/> timer accepts.</summary>
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// Checks every option and reports every invalid one in a single exception; <paramref name="hooks"/> and
    /// <paramref name="httpClientFactory"/> come from inside the library (tests, <c>AddClickstream</c>), not from the app.
    /// </summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists each.</exception>
    public static PipelineSettings Create(ClickstreamOptions options, PipelineHooks? hooks = null, IHttpClientFactory? httpClientFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException(Describe(errors), nameof(options));
        }

        return new PipelineSettings(options, hooks ?? PipelineHooks.None, httpClientFactory);
    }

    /// <summary>
    /// The message that lists every error: <c>Invalid ClickstreamOptions:</c> and one line per invalid option.
    /// The hosting validator reports the same text.
    /// </summary>
    public static string Describe(List<string> errors)
    {
        var message = new StringBuilder("Invalid ClickstreamOptions:");
        foreach (var error in errors)
        {
            message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}- {error}");
        }

        return message.ToString();
    }

    /// <summary>Every invalid option of <paramref name="options"/>, each named; empty when they are valid.</summary>
    public static List<string> Validate(ClickstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (!Enum.IsDefined(options.Transport))
        {
            errors.Add($"{nameof(ClickstreamOptions.Transport)} is not a known transport; was {options.Transport}.");
        }

        if (options.Endpoint is null)
        {
            errors.Add($"{nameof(ClickstreamOptions.Endpoint)} is required.");
        }
        else
        {
            var webSocket = options.Transport == ClickstreamTransport.WebSocket;
            var (secure, plain) = webSocket ? (Uri.UriSchemeWss, Uri.UriSchemeWs) : (Uri.UriSchemeHttps, Uri.UriSchemeHttp);
            if (!options.Endpoint.IsAbsoluteUri || (options.Endpoint.Scheme != plain && options.Endpoint.Scheme != secure))
            {
                errors.Add($"{nameof(ClickstreamOptions.Endpoint)} must be an absolute {plain} or {secure} URI for the {options.Transport} transport; was '{Redact(options.Endpoint)}'.");
            }
        }

        var ws = options.WebSocket;
        Positive(errors, ws.MaxInFlightBatches, "WebSocket." + nameof(WebSocketTransportOptions.MaxInFlightBatches));
        Positive(errors, ws.AckTimeout, "WebSocket." + nameof(WebSocketTransportOptions.AckTimeout));
        Positive(errors, ws.KeepAliveInterval, "WebSocket." + nameof(WebSocketTransportOptions.KeepAliveInterval));
        Positive(errors, ws.ReconnectBaseDelay, "WebSocket." + nameof(WebSocketTransportOptions.ReconnectBaseDelay));
        if (ws.ReconnectMaxDelay < ws.ReconnectBaseDelay)
        {
            errors.Add($"WebSocket.{nameof(WebSocketTransportOptions.ReconnectMaxDelay)} ({ws.ReconnectMaxDelay}) must not be less than WebSocket.{nameof(WebSocketTransportOptions.ReconnectBaseDelay)} ({ws.ReconnectBaseDelay}).");
        }

        if (string.IsNullOrWhiteSpace(options.GrpcServiceName) || options.GrpcServiceName.Contains('/', StringComparison.Ordinal))
        {
            errors.Add($"{nameof(ClickstreamOptions.GrpcServiceName)} must be a service's full name such as '{ClickstreamDefaults.GrpcServiceName}'; was '{options.GrpcServiceName}'.");
        }

        if (string.IsNullOrWhiteSpace(options.StoragePath))
        {
            errors.Add($"{nameof(ClickstreamOptions.StoragePath)} is required.");
        }

        Positive(errors, options.MaxBatchSize, nameof(ClickstreamOptions.MaxBatchSize));
        Positive(errors, options.MaxBatchBytes, nameof(ClickstreamOptions.MaxBatchBytes));
        Positive(errors, options.MaxEventBytes, nameof(ClickstreamOptions.MaxEventBytes));
        Positive(errors, options.MaxQueuedEvents, nameof(ClickstreamOptions.MaxQueuedEvents));
        if (!Enum.IsDefined(options.QueueFullMode))
        {
            errors.Add($"{nameof(ClickstreamOptions.QueueFullMode)} must be one of {string.Join(", ", Enum.GetNames<ClickstreamQueueFullMode>())}; was {(int)options.QueueFullMode}.");
        }

        Positive(errors, options.MaxConcurrentRequests, nameof(ClickstreamOptions.MaxConcurrentRequests));
        if (options.MaxInMemoryStoredEvents < options.MaxBatchSize)
        {
            errors.Add($"{nameof(ClickstreamOptions.MaxInMemoryStoredEvents)} ({options.MaxInMemoryStoredEvents}) must be at least {nameof(ClickstreamOptions.MaxBatchSize)} ({options.MaxBatchSize}).");
        }

        Positive(errors, options.MaxStoredEvents, nameof(ClickstreamOptions.MaxStoredEvents));
        Positive(errors, options.MaxDeadLetters, nameof(ClickstreamOptions.MaxDeadLetters));
        if (options.MaxStorageBytes < 2L * Math.Max(1, options.MaxEventBytes))
        {
            errors.Add($"{nameof(ClickstreamOptions.MaxStorageBytes)} ({options.MaxStorageBytes}) must be at least twice {nameof(ClickstreamOptions.MaxEventBytes)} ({options.MaxEventBytes}).");
        }

        if (options.EventTimeToLive <= TimeSpan.Zero && options.EventTimeToLive != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(ClickstreamOptions.EventTimeToLive)} must be greater than zero, or Timeout.InfiniteTimeSpan to keep events until they are sent; was {options.EventTimeToLive}.");
        }

        if (options.DiskSyncInterval <= TimeSpan.Zero && options.DiskSyncInterval != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(ClickstreamOptions.DiskSyncInterval)} must be greater than zero, or Timeout.InfiniteTimeSpan to sync only at checkpoints; was {options.DiskSyncInterval}.");
        }

        Positive(errors, options.MaxTimeBetweenTwoBatches, nameof(ClickstreamOptions.MaxTimeBetweenTwoBatches));
        Positive(errors, options.RequestTimeout, nameof(ClickstreamOptions.RequestTimeout));
        Positive(errors, options.RetryBaseDelay, nameof(ClickstreamOptions.RetryBaseDelay));
        Positive(errors, options.RetryMaxDelay, nameof(ClickstreamOptions.RetryMaxDelay));
        if (options.RetryMaxDelay < options.RetryBaseDelay)
        {
            errors.Add($"{nameof(ClickstreamOptions.RetryMaxDelay)} ({options.RetryMaxDelay}) must not be less than {nameof(ClickstreamOptions.RetryBaseDelay)} ({options.RetryBaseDelay}).");
        }

        Positive(errors, options.ProbeInterval, nameof(ClickstreamOptions.ProbeInterval));

        if (options.ShutdownTimeout < TimeSpan.Zero && options.ShutdownTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(ClickstreamOptions.ShutdownTimeout)} must not be negative (Timeout.InfiniteTimeSpan or TimeSpan.MaxValue: no limit); was {options.ShutdownTimeout}.");
        }

        if (options.TimeProvider is null)
        {
            errors.Add($"{nameof(ClickstreamOptions.TimeProvider)} is required.");
        }

        if (options.EventGroup is { Length: > 0 } group && !IsValidTypeText(group))
        {
            errors.Add($"{nameof(ClickstreamOptions.EventGroup)} may hold letters, digits, '-', '_' and '.' only; was '{group}'.");
        }

        foreach (var header in options.Headers)
        {
            if (string.IsNullOrWhiteSpace(header.Key) || header.Value is null)
            {
                errors.Add($"{nameof(ClickstreamOptions.Headers)} has an empty name or a null value.");
            }
        }

        foreach (var type in options.InstantEventTypes)
        {
            if (string.IsNullOrWhiteSpace(type))
            {
                errors.Add($"{nameof(ClickstreamOptions.InstantEventTypes)} has an empty entry.");
            }
        }

        return errors;
    }

    private static void Positive(List<string> errors, int value, string name)
    {
        if (value <= 0)
        {
            errors.Add($"{name} must be greater than zero; was {value}.");
        }
    }

    private static void Positive(List<string> errors, long value, string name)
    {
        if (value <= 0)
        {
            errors.Add($"{name} must be greater than zero; was {value}.");
        }
    }

    private static void Positive(List<string> errors, TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name} must be greater than zero; was {value}.");
        }
    }

    private static bool IsValidTypeText(string text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
