using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Clickstream.Collector;

/// <summary>
/// The <c>Retry-After</c> an injected failure carries (RFC 9110, section 10.2.3), in either of its two forms:
/// delta-seconds (<c>Retry-After: 5</c>) or an HTTP-date (<c>Retry-After: Wed, 21 Oct 2026 07:28:00 GMT</c>).
/// </summary>
/// <remarks>
/// On REST it is the response header. On gRPC, which has no such header, the call carries two trailers: the HTTP value
/// as <c>retry-after</c>, and the delay in milliseconds as <c>grpc-retry-pushback-ms</c> (gRFC A6). A WebSocket answer
/// has no headers: there it is ignored.
/// </remarks>
public sealed record RetryAfter
{
    // IMF-fixdate, the HTTP-date form a sender must generate: "Sun, 06 Nov 1994 08:49:37 GMT".
    private const string HttpDateFormat = "r";

    private RetryAfter(TimeSpan? delay, DateTimeOffset? date, bool isHttpDate)
    {
        Delay = delay;
        Date = date;
        IsHttpDate = isHttpDate;
    }

    /// <summary>The delay: the seconds of <see cref="Seconds"/>, or the offset of <see cref="DateIn"/>; null for <see cref="At"/>.</summary>
    public TimeSpan? Delay { get; }

    /// <summary>The fixed date of <see cref="At"/>; null for the other forms.</summary>
    public DateTimeOffset? Date { get; }

    /// <summary>Whether the header is an HTTP-date (<see cref="At"/>, <see cref="DateIn"/>) rather than delta-seconds.</summary>
    public bool IsHttpDate { get; }

    /// <summary>Delta-seconds: <c>Retry-After: <paramref name="seconds"/></c>.</summary>
    /// <param name="seconds">0 or more.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seconds"/> is negative.</exception>
    public static RetryAfter Seconds(int seconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seconds);
        return new RetryAfter(TimeSpan.FromSeconds(seconds), date: null, isHttpDate: false);
    }

    /// <summary>A fixed HTTP-date, sent as is (whole seconds, in GMT) whatever the collector's clock says.</summary>
    /// <param name="date">The date; its fraction of a second is dropped.</param>
    /// <returns>The value.</returns>
    public static RetryAfter At(DateTimeOffset date)
    {
        DateTimeOffset utc = date.ToUniversalTime();
        return new RetryAfter(delay: null, utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond)), isHttpDate: true);
    }

    /// <summary>
    /// An HTTP-date <paramref name="delay"/> after the moment of each answer on the collector's
    /// <see cref="CollectorOptions.TimeProvider"/>, rounded up to a whole second: the date form that stays valid on a
    /// running clock.
    /// </summary>
    /// <param name="delay">0 or more.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public static RetryAfter DateIn(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new RetryAfter(delay, date: null, isHttpDate: true);
    }

    /// <summary>Parses a header value: delta-seconds (digits only) or an IMF-fixdate HTTP-date, which becomes <see cref="At"/>.</summary>
    /// <param name="text">The value, e.g. <c>5</c> or <c>Wed, 21 Oct 2026 07:28:00 GMT</c>.</param>
    /// <param name="retryAfter">The parsed value, or null.</param>
    /// <returns>Whether <paramref name="text"/> is one of the two forms.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out RetryAfter? retryAfter)
    {
        retryAfter = null;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds))
        {
            retryAfter = Seconds(seconds);
            return true;
        }

        if (DateTimeOffset.TryParseExact(text, HttpDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date))
        {
            retryAfter = At(date);
            return true;
        }

        return false;
    }

    /// <summary>How the header reads: <c>5</c>, the fixed date, or <c>now + 00:00:05 as an HTTP-date</c>.</summary>
    /// <returns>A description.</returns>
    public override string ToString() => (Delay, Date) switch
    {
        (_, { } date) => FormatDate(date),
        ({ } delay, _) when IsHttpDate => string.Create(CultureInfo.InvariantCulture, $"now + {delay} as an HTTP-date"),
        ({ } delay, _) => ((long)delay.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        _ => string.Empty,
    };

    /// <summary>The header value for an answer sent at <paramref name="now"/>.</summary>
    internal string HeaderValue(DateTimeOffset now) => Date is null && IsHttpDate ? FormatDate(DateFrom(now)) : ToString();

    /// <summary>How long a client should wait after an answer sent at <paramref name="now"/>; never negative.</summary>
    internal TimeSpan DelayFrom(DateTimeOffset now)
    {
        if (!IsHttpDate)
        {
            return Delay!.Value;
        }

        TimeSpan left = DateFrom(now) - now;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static string FormatDate(DateTimeOffset date) => date.ToUniversalTime().ToString(HttpDateFormat, CultureInfo.InvariantCulture);

    private DateTimeOffset DateFrom(DateTimeOffset now)
    {
        if (Date is { } fixedDate)
        {
            return fixedDate;
        }

        // Rounded up, so that a client that waits until the date waits at least the delay.
        DateTimeOffset due = now.ToUniversalTime() + Delay!.Value;
        long fraction = due.Ticks % TimeSpan.TicksPerSecond;
        return fraction == 0 ? due : due.AddTicks(TimeSpan.TicksPerSecond - fraction);
    }
}
