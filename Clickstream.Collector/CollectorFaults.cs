using Clickstream.Collector.Faults;
using Clickstream.Collector.Hosting;
using Clickstream.Collector.WebSockets;

namespace Clickstream.Collector;

/// <summary>
/// Failures a test (or the standalone collector's flags) switches on at runtime to see how a client copes. Thread-safe;
/// all off by default. Each fault is counted by kind in <see cref="CollectorStats.Faults"/>.
/// </summary>
/// <remarks>
/// <para>
/// Request faults (a <see cref="Fault"/>) hit requests that Raccoon would accept (known content type, body decodes,
/// identity and token as required), the way a publish failure in Raccoon's sync-ack mode does: an unknown content type
/// or a bad body is still rejected as usual. Which request gets one: first the <see cref="FailNext(int, Fault)"/>
/// budget, then <see cref="AlwaysFail"/>, then a draw of <see cref="FailRandomly(IReadOnlyList{FaultRate}, int?)"/>.
/// A faulted request counts in <see cref="CollectorStats.FailedRequests"/> and its events are not accepted, unless the
/// fault is <see cref="Fault.AfterAccepting"/>.
/// </para>
/// <para>
/// Every fault applies on every protocol, as each <see cref="Fault"/> describes; Retry-After is a header on REST,
/// trailers on gRPC, and has no place on WebSocket. An error status on WebSocket is a STATUS_ERROR frame
/// (CODE_BAD_REQUEST for a 4xx status, CODE_INTERNAL_ERROR for a 5xx one) and the connection stays open. On gRPC, 500 is
/// what Raccoon's gRPC handler answers when publishing fails, an OK call whose SendEventResponse is STATUS_ERROR,
/// CODE_INTERNAL_ERROR, and any other status is the gRPC status a proxy in front of Raccoon would turn it into: 400 and
/// other 4xx InvalidArgument, 401 Unauthenticated, 403 PermissionDenied, 404 and 501 Unimplemented, 408 DeadlineExceeded,
/// 409 Aborted, 413 and 429 ResourceExhausted, 502, 503 and 504 Unavailable, other 5xx Internal.
/// </para>
/// </remarks>
public sealed class CollectorFaults
{
    // Replaced as a whole by FailNext; Remaining counts down below zero once spent, which is harmless.
    private FailNextBudget? _failNext;
    private Fault? _alwaysFail;
    private RandomFaults? _randomFaults;
    private long _delayTicks;
    private volatile bool _respondWithWrongRequestGuid;

    // Non-null while answers are withheld; completed (and cleared) when they are released.
    private TaskCompletionSource? _withheld;

    private readonly Lock _outageLock = new();
    private OutageTimer? _outageTimer;

    private readonly WebSocketConnectionTable _webSockets;
    private readonly OutageSwitch _outage;
    private readonly CollectorStats _stats;
    private readonly TimeProvider _timeProvider;

    internal CollectorFaults(WebSocketConnectionTable webSockets, OutageSwitch outage, CollectorStats stats, TimeProvider timeProvider)
    {
        _webSockets = webSockets;
        _outage = outage;
        _stats = stats;
        _timeProvider = timeProvider;
    }

    /// <summary>
    /// Whether to accept and count requests but not answer them: a REST or gRPC call hangs, a WebSocket request gets no
    /// response frame. Switching it off sends every held answer; stopping the collector aborts the held calls (and
    /// closes the connections). Use it to make a client's ack timeout expire. A <see cref="Fault.ConnectionReset"/>
    /// answers nothing, so it is not withheld: on a WebSocket whose answers are held, it drops the connection mid-batch.
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
    /// How long to wait before answering any request (a REST POST, a WebSocket message, a gRPC call), faults included:
    /// latency, or a slow ack. On the collector's <see cref="CollectorOptions.TimeProvider"/>. Accepted events are
    /// counted before the wait, as Raccoon hands them on before it answers. WebSocket answers wait apart, so the
    /// connection goes on reading meanwhile. <see cref="TimeSpan.Zero"/> is off.
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

    /// <summary>Whether the collector is down (see <see cref="GoDown"/>).</summary>
    public bool IsDown => _outage.IsDown;

    /// <summary>
    /// Gives the next <paramref name="requests"/> valid requests an error status (<see cref="Fault.Status"/>). Replaces
    /// any earlier <see cref="FailNext(int, Fault)"/> still pending; 0 cancels it. Takes precedence over
    /// <see cref="AlwaysFail"/> and <see cref="FailRandomly(IReadOnlyList{FaultRate}, int?)"/>.
    /// </summary>
    /// <param name="requests">How many requests to fail, 0 or more.</param>
    /// <param name="statusCode">The HTTP status, 400 to 599. The default value is 500.</param>
    /// <param name="retryAfter">A <c>Retry-After</c> to send with it, or null. The default value is null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public void FailNext(int requests, int statusCode = 500, RetryAfter? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        FailNext(requests, Fault.Status(statusCode, retryAfter));
    }

    /// <summary>
    /// Gives the next <paramref name="requests"/> valid requests <paramref name="fault"/>. Replaces any earlier one
    /// still pending; 0 cancels it. Takes precedence over <see cref="AlwaysFail"/> and
    /// <see cref="FailRandomly(IReadOnlyList{FaultRate}, int?)"/>.
    /// </summary>
    /// <param name="requests">How many requests to fail, 0 or more.</param>
    /// <param name="fault">The fault.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="requests"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="fault"/> is null.</exception>
    public void FailNext(int requests, Fault fault)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ArgumentNullException.ThrowIfNull(fault);
        Volatile.Write(ref _failNext, requests == 0 ? null : new FailNextBudget(fault, requests));
    }

    /// <summary>
    /// Gives every valid request an error status (<see cref="Fault.Status"/>) until called with null. Takes precedence
    /// over <see cref="FailRandomly(IReadOnlyList{FaultRate}, int?)"/>; for another kind of fault on every request, use
    /// that with a rate of 1.
    /// </summary>
    /// <param name="statusCode">The HTTP status, 400 to 599, or null to stop failing.</param>
    /// <param name="retryAfter">A <c>Retry-After</c> to send with it, or null. The default value is null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The status code is out of range.</exception>
    public void AlwaysFail(int? statusCode, RetryAfter? retryAfter = null) =>
        Volatile.Write(ref _alwaysFail, statusCode is { } code ? Fault.Status(code, retryAfter) : null);

    /// <summary>
    /// Gives a share <paramref name="rate"/> of valid requests <paramref name="fault"/>, drawn at random; replaces any
    /// earlier random faults. See <see cref="FailRandomly(IReadOnlyList{FaultRate}, int?)"/>.
    /// </summary>
    /// <param name="rate">The share, 0 (off) to 1 (every request).</param>
    /// <param name="fault">The fault.</param>
    /// <param name="seed">A seed for a sequence of draws that is the same on every run, or null for a random one.</param>
    /// <exception cref="ArgumentException">The rate is not within 0 to 1, or the fault is null.</exception>
    public void FailRandomly(double rate, Fault fault, int? seed = null) => FailRandomly([new FaultRate(fault, rate)], seed);

    /// <summary>
    /// Gives each valid request at most one of <paramref name="faults"/>, drawn at random by their rates; replaces any
    /// earlier random faults, atomically; no rates (or all zero) stops them. Each request draws once,
    /// <c>Random.NextDouble()</c>, and gets the first fault whose running total of rates exceeds the draw: with a seed,
    /// a test can replay the same sequence with <c>new Random(seed)</c> (requests sent one after another draw in order).
    /// </summary>
    /// <param name="faults">The faults and their shares, each 0 to 1, adding up to at most 1.</param>
    /// <param name="seed">A seed for a sequence of draws that is the same on every run, or null for a random one.</param>
    /// <exception cref="ArgumentException">A fault is null, a rate is not within 0 to 1, or the rates add up to more than 1.</exception>
    public void FailRandomly(IReadOnlyList<FaultRate> faults, int? seed = null) =>
        Volatile.Write(ref _randomFaults, RandomFaults.Create(faults, seed));

    /// <summary>
    /// Aborts every open WebSocket connection at once, without a close handshake, as a network failure or a server
    /// crash would. Answers not yet sent are lost; the clients may reconnect.
    /// </summary>
    /// <returns>How many connections were dropped.</returns>
    public int DropWebSocketConnections()
    {
        int dropped = _webSockets.AbortAll();
        _stats.OnFault(FaultKind.WebSocketDropped, dropped);
        return dropped;
    }

    /// <summary>
    /// Takes the collector down, as a crashed server or a broken network: both listening ports (REST/WebSocket and
    /// gRPC) close, so that a client's connect is refused (REST, WebSocket, gRPC and <c>GET /ping</c> alike), and every
    /// open connection is reset (answers in flight are lost). Kestrel keeps running; nothing is counted as a request
    /// while down, since nothing arrives. Does nothing if already down.
    /// </summary>
    public void GoDown()
    {
        if (_outage.GoDown())
        {
            _stats.OnFault(FaultKind.Outage);
        }
    }

    /// <summary>Brings the collector back after <see cref="GoDown"/>: the same ports accept connections again. Does nothing if up.</summary>
    /// <exception cref="IOException">A port was taken meanwhile by another process; the collector stays down.</exception>
    public void ComeBack() => _outage.ComeBack();

    /// <summary>
    /// Goes down and comes back on <paramref name="schedule"/>, on the collector's <see cref="CollectorOptions.TimeProvider"/>,
    /// from now on (the first outage starts one period from now); replaces any earlier schedule. Null stops the schedule
    /// and brings the collector back. A test on a fake clock sees each change when its <c>Advance</c> returns.
    /// </summary>
    /// <param name="schedule">The outages, or null for none.</param>
    /// <exception cref="IOException">Null was given while down, and a port was taken meanwhile (see <see cref="ComeBack"/>).</exception>
    public void ScheduleOutages(OutageSchedule? schedule)
    {
        lock (_outageLock)
        {
            _outageTimer?.Dispose();
            _outageTimer = schedule is null ? null : new OutageTimer(schedule, _timeProvider, GoDown, TryComeBack);
        }

        if (schedule is null)
        {
            ComeBack();
        }
    }

    /// <summary>Switches every fault off: held answers are sent, the outage schedule stops, and a collector down comes back.</summary>
    /// <exception cref="IOException">The collector was down, and a port was taken meanwhile (see <see cref="ComeBack"/>).</exception>
    public void Reset()
    {
        Volatile.Write(ref _failNext, null);
        Volatile.Write(ref _alwaysFail, null);
        Volatile.Write(ref _randomFaults, null);
        Interlocked.Exchange(ref _delayTicks, 0);
        _respondWithWrongRequestGuid = false;
        WithholdResponses = false;
        ScheduleOutages(null);
    }

    /// <summary>Stops the outage schedule for good, when the collector stops.</summary>
    internal void StopSchedule()
    {
        lock (_outageLock)
        {
            _outageTimer?.Dispose();
            _outageTimer = null;
        }
    }

    /// <summary>Whether an answer must wait: a <see cref="Delay"/> is set, or answers are withheld and it is one.</summary>
    internal bool IsHolding(bool isAnswer) => Interlocked.Read(ref _delayTicks) != 0 || (isAnswer && Volatile.Read(ref _withheld) is not null);

    /// <summary>
    /// Waits for the <see cref="Delay"/>, then, for an answer, for <see cref="WithholdResponses"/> to be switched off;
    /// counts each.
    /// </summary>
    internal async Task HoldAsync(bool isAnswer, CancellationToken cancellationToken)
    {
        TimeSpan delay = Delay;
        if (delay > TimeSpan.Zero)
        {
            _stats.OnFault(FaultKind.DelayedAnswer);
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        // Read after the delay, so that answers withheld meanwhile are held too.
        if (isAnswer && Volatile.Read(ref _withheld) is { } withheld)
        {
            _stats.OnFault(FaultKind.WithheldAnswer);
            await withheld.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The fault of this valid request, consuming one <see cref="FailNext(int, Fault)"/> if so; null for none.</summary>
    internal Fault? TakeFault()
    {
        if (Volatile.Read(ref _failNext) is { } budget && Interlocked.Decrement(ref budget.Remaining) >= 0)
        {
            return budget.Fault;
        }

        return Volatile.Read(ref _alwaysFail) ?? Volatile.Read(ref _randomFaults)?.Draw();
    }

    private bool TryComeBack()
    {
        try
        {
            ComeBack();
            return true;
        }
        catch (IOException)
        {
            // From a timer: nobody to throw to. The schedule tries again at the end of its next outage.
            return false;
        }
    }

    private sealed class FailNextBudget(Fault fault, int remaining)
    {
        public readonly Fault Fault = fault;
        public int Remaining = remaining;
    }
}
