using System.Collections.Frozen;
using System.Globalization;
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
    private PipelineSettings(ClickstreamOptions o)
    {
        Endpoint = o.Endpoint!;
        StoragePath = Path.GetFullPath(o.StoragePath);
        MaxBatchSize = o.MaxBatchSize;
        MaxBatchBytes = o.MaxBatchBytes;
        MaxTimeBetweenTwoBatches = o.MaxTimeBetweenTwoBatches;
        InstantEventTypes = o.InstantEventTypes.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        EventGroup = string.IsNullOrEmpty(o.EventGroup) ? null : o.EventGroup;
        MaxEventBytes = o.MaxEventBytes;
        MaxQueuedEvents = o.MaxQueuedEvents;
        MaxInMemoryStoredEvents = o.MaxInMemoryStoredEvents;
        MaxConcurrentRequests = o.MaxConcurrentRequests;
        RequestTimeout = o.RequestTimeout;
        RetryBaseDelay = o.RetryBaseDelay;
        RetryMaxDelay = o.RetryMaxDelay;
        ShutdownTimeout = o.ShutdownTimeout;
        Headers = o.Headers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        TimeProvider = o.TimeProvider;
        LoggerFactory = o.LoggerFactory ?? NullLoggerFactory.Instance;
        HttpMessageHandler = o.HttpMessageHandler;
    }

    public Uri Endpoint { get; }
    public string StoragePath { get; }
    public int MaxBatchSize { get; }
    public int MaxBatchBytes { get; }
    public TimeSpan MaxTimeBetweenTwoBatches { get; }
    public FrozenSet<string> InstantEventTypes { get; }
    public string? EventGroup { get; }
    public int MaxEventBytes { get; }
    public int MaxQueuedEvents { get; }
    public int MaxInMemoryStoredEvents { get; }
    public int MaxConcurrentRequests { get; }
    public TimeSpan RequestTimeout { get; }
    public TimeSpan RetryBaseDelay { get; }
    public TimeSpan RetryMaxDelay { get; }
    public TimeSpan ShutdownTimeout { get; }
    public FrozenDictionary<string, string> Headers { get; }
    public TimeProvider TimeProvider { get; }
    public ILoggerFactory LoggerFactory { get; }
    public HttpMessageHandler? HttpMessageHandler { get; }

    /// <summary>Checks every option and reports every invalid one in a single exception.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists each.</exception>
    public static PipelineSettings Create(ClickstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (options.Endpoint is null)
        {
            errors.Add($"{nameof(ClickstreamOptions.Endpoint)} is required.");
        }
        else if (!options.Endpoint.IsAbsoluteUri || (options.Endpoint.Scheme != Uri.UriSchemeHttp && options.Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{nameof(ClickstreamOptions.Endpoint)} must be an absolute http or https URI; was '{options.Endpoint}'.");
        }

        if (string.IsNullOrWhiteSpace(options.StoragePath))
        {
            errors.Add($"{nameof(ClickstreamOptions.StoragePath)} is required.");
        }

        Positive(errors, options.MaxBatchSize, nameof(ClickstreamOptions.MaxBatchSize));
        Positive(errors, options.MaxBatchBytes, nameof(ClickstreamOptions.MaxBatchBytes));
        Positive(errors, options.MaxEventBytes, nameof(ClickstreamOptions.MaxEventBytes));
        Positive(errors, options.MaxQueuedEvents, nameof(ClickstreamOptions.MaxQueuedEvents));
        Positive(errors, options.MaxConcurrentRequests, nameof(ClickstreamOptions.MaxConcurrentRequests));
        if (options.MaxInMemoryStoredEvents < options.MaxBatchSize)
        {
            errors.Add($"{nameof(ClickstreamOptions.MaxInMemoryStoredEvents)} ({options.MaxInMemoryStoredEvents}) must be at least {nameof(ClickstreamOptions.MaxBatchSize)} ({options.MaxBatchSize}).");
        }

        Positive(errors, options.MaxTimeBetweenTwoBatches, nameof(ClickstreamOptions.MaxTimeBetweenTwoBatches));
        Positive(errors, options.RequestTimeout, nameof(ClickstreamOptions.RequestTimeout));
        Positive(errors, options.RetryBaseDelay, nameof(ClickstreamOptions.RetryBaseDelay));
        Positive(errors, options.RetryMaxDelay, nameof(ClickstreamOptions.RetryMaxDelay));
        if (options.RetryMaxDelay < options.RetryBaseDelay)
        {
            errors.Add($"{nameof(ClickstreamOptions.RetryMaxDelay)} ({options.RetryMaxDelay}) must not be less than {nameof(ClickstreamOptions.RetryBaseDelay)} ({options.RetryBaseDelay}).");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            errors.Add($"{nameof(ClickstreamOptions.ShutdownTimeout)} must not be negative; was {options.ShutdownTimeout}.");
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

        if (errors.Count > 0)
        {
            var message = new StringBuilder("Invalid ClickstreamOptions:");
            foreach (var error in errors)
            {
                message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}- {error}");
            }

            throw new ArgumentException(message.ToString(), nameof(options));
        }

        return new PipelineSettings(options);
    }

    private static void Positive(List<string> errors, int value, string name)
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
