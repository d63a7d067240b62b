using System.Globalization;
using Clickstream.Collector.WebSockets;

namespace Clickstream.Collector;

/// <summary>
/// Failures a test can switch on at runtime to see how a client copes. Thread-safe; all off by default.
/// </summary>
/// <remarks>
/// <para>
/// Faults apply to requests that Raccoon would accept (known content type, body decodes, identity and token as
/// required), the way a publish failure in Raccoon's sync-ack mode does: an unknown content type or a bad body is still
/// rejected as usual. A failed request's events are not counted as accepted; it counts in
/// <see cref="CollectorStats.FailedRequests"/>.
/// </para>
/// <para>
/// The same faults apply on every protocol. On REST a failure is an HTTP status with a STATUS_ERROR body; on WebSocket
/// a STATUS_ERROR frame (CODE_BAD_REQUEST for a 4xx status, CODE_INTERNAL_ERROR for a 5xx one) and the connection
/// stays open; on gRPC, 500 is what Raccoon's gRPC handler answers when publishing fails, an OK call whose
/// SendEventResponse is STATUS_ERROR, CODE_INTERNAL_ERROR, and any other status is the gRPC status a proxy in front of
/// Raccoon would turn it into: 400 and other 4xx InvalidArgument, 401 Unauthenticated, 403 PermissionDenied,
/// 404 and 501 Unimplemented, 408 DeadlineExceeded, 409 Aborted, 413 and 429 ResourceExhausted, 502, 503 and 504
/// Unavailable, other 5xx Internal.
/// </para>
/// </remarks>
public sealed class CollectorFaults
{
    private const int MinStatusCode = 400;
    private const int MaxStatusCode = 599;

    // FailNext as one 64-bit value, (remaining << 32) | statusCode, so that the count and its status code
    // change together with one compare-and-swap.
    private long _failNext;
    private int _alwaysFailStatusCode;
    private long _delayTicks;
    private volatile bool _respondWithWrongRequestGuid;

    // Non-null while answers are withheld; completed (and cleared) when they are released.
    private TaskCompletionSource? _withheld;
    private readonly WebSocketConnectionTable _connections;

    internal CollectorFaults(WebSocketConnectionTable connections) => _connections = connections;

    /// <summary>
    /// Whether to accept and count requests but not answer them: a REST or gRPC call hangs, a WebSocket request gets no
    /// response frame. Switching it off sends every held answer; stopping the collector aborts the held calls (and
    /// closes the connections). Use it to make a client's ack timeout expire.
    /// </summary>
    public bool WithholdResponses
    {
        get => Volatile.Read(ref _withheld) is not null;
        set
        {
            if (value)
            {
                Interlocked.CompareExchange(ref _withheld, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
            }
            else
            {
                Interlocked.Exchange(ref _withheld, null)?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Whether to answer accepted requests 200 SUCCESS but with a <c>data.req_guid</c> that is not the request's,
    /// to test that a client matches acks by <c>req_guid</c>. The events still count as accepted.
    /// </summary>
    public bool RespondWithWrongRequestGuid
    {
        get => _respondWithWrongRequestGuid;
        set => _respondWithWrongRequestGuid = value;
    }

    /// <summary>
    /// How long to wait before answering any request (a REST POST, a WebSocket message, a gRPC call), on the
    /// collector's <see cref="CollectorOptions.TimeProvider"/>. Accepted events are counted before the wait, as Raccoon
    /// hands them on before it answers. WebSocket answers wait apart, so the connection goes on reading meanwhile.
    /// <see cref="TimeSpan.Zero"/> is off.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Interlocked.Exchange(ref _delayTicks, value.Ticks);
        }
    }

    /// <summary>
    /// Answers the next <paramref name="requests"/> valid requests with <paramref name="statusCode"/> and
    /// STATUS_ERROR: CODE_BAD_REQUEST for a 4xx status, CODE_INTERNAL_ERROR for a 5xx one. Replaces any earlier
    /// <see cref="FailNext"/> still pending; 0 cancels it. Takes precedence over <see cref="AlwaysFail"/>.
    /// </summary>
    /// <param name="requests">How many requests to fail, 0 or more.</param>
    /// <param name="statusCode">The HTTP status, 400 to 599. The default value is 500.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public void FailNext(int requests, int statusCode = 500)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ValidateStatusCode(statusCode);
        Interlocked.Exchange(ref _failNext, ((long)requests << 32) | (uint)statusCode);
    }

    /// <summary>Answers every valid request with <paramref name="statusCode"/> (as <see cref="FailNext"/>) until called with null.</summary>
    /// <param name="statusCode">The HTTP status, 400 to 599, or null to stop failing.</param>
    /// <exception cref="ArgumentOutOfRangeException">The status code is out of range.</exception>
    public void AlwaysFail(int? statusCode)
    {
        if (statusCode is { } code)
        {
            ValidateStatusCode(code);
        }

        Volatile.Write(ref _alwaysFailStatusCode, statusCode ?? 0);
    }

    /// <summary>
    /// Aborts every open WebSocket connection at once, without a close handshake, as a network failure or a server
    /// crash would. Answers not yet sent are lost; the clients may reconnect.
    /// </summary>
    /// <returns>How many connections were dropped.</returns>
    public int DropWebSocketConnections() => _connections.AbortAll();

    /// <summary>Switches every fault off (held answers are sent).</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _failNext, 0);
        Volatile.Write(ref _alwaysFailStatusCode, 0);
        Interlocked.Exchange(ref _delayTicks, 0);
        _respondWithWrongRequestGuid = false;
        WithholdResponses = false;
    }

    /// <summary>Whether an answer must wait: a <see cref="Delay"/> is set or answers are withheld.</summary>
    internal bool IsHoldingAnswers => Interlocked.Read(ref _delayTicks) != 0 || Volatile.Read(ref _withheld) is not null;

    /// <summary>Waits for the <see cref="Delay"/>, then for <see cref="WithholdResponses"/> to be switched off.</summary>
    internal async Task HoldAnswerAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        TimeSpan delay = Delay;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
        }

        // Read after the delay, so that answers withheld meanwhile are held too.
        if (Volatile.Read(ref _withheld) is { } withheld)
        {
            await withheld.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Decides whether this request fails, consuming one <see cref="FailNext"/> if so.</summary>
    internal bool TryTakeFailure(out int statusCode)
    {
        while (true)
        {
            long packed = Interlocked.Read(ref _failNext);
            int remaining = (int)(packed >> 32);
            if (remaining <= 0)
            {
                break;
            }

            long next = ((long)(remaining - 1) << 32) | (uint)packed;
            if (Interlocked.CompareExchange(ref _failNext, next, packed) == packed)
            {
                statusCode = (int)(uint)packed;
                return true;
            }
        }

        statusCode = Volatile.Read(ref _alwaysFailStatusCode);
        return statusCode != 0;
    }

    private static void ValidateStatusCode(int statusCode)
    {
        if (statusCode is < MinStatusCode or > MaxStatusCode)
        {
            throw new ArgumentOutOfRangeException(
                nameof(statusCode),
                statusCode,
                string.Create(CultureInfo.InvariantCulture, $"A fault's status code must be an HTTP error status, {MinStatusCode} to {MaxStatusCode}."));
        }
    }
}
