namespace Clickstream.Collector;

/// <summary>
/// What a fault did, as <see cref="CollectorStats.Faults"/> counts it. The first five are the kinds of a <see cref="Fault"/>
/// (what a request gets instead of its answer); the others count the other switches of <see cref="CollectorFaults"/>.
/// </summary>
public enum FaultKind
{
    /// <summary>An HTTP error status with a STATUS_ERROR answer (<see cref="Fault.Status"/>), Retry-After included if set.</summary>
    ErrorStatus,

    /// <summary>200 with STATUS_ERROR, CODE_INTERNAL_ERROR (<see cref="Fault.SoftError"/>).</summary>
    SoftError,

    /// <summary>The connection aborted instead of an answer (<see cref="Fault.ConnectionReset"/>); on WebSocket, a drop mid-batch.</summary>
    ConnectionReset,

    /// <summary>Half of an answer, then the connection aborted (<see cref="Fault.TruncatedResponse"/>).</summary>
    TruncatedResponse,

    /// <summary>An answer whose bytes do not decode (<see cref="Fault.MalformedResponse"/>).</summary>
    MalformedResponse,

    /// <summary>A SUCCESS answer with another <c>req_guid</c> (<see cref="CollectorFaults.RespondWithWrongRequestGuid"/>).</summary>
    WrongRequestGuid,

    /// <summary>An answer held for <see cref="CollectorFaults.Delay"/>.</summary>
    DelayedAnswer,

    /// <summary>An answer held while <see cref="CollectorFaults.WithholdResponses"/> was on.</summary>
    WithheldAnswer,

    /// <summary>A WebSocket connection aborted by <see cref="CollectorFaults.DropWebSocketConnections"/>.</summary>
    WebSocketDropped,

    /// <summary>The collector went down (<see cref="CollectorFaults.GoDown"/>, or an outage of <see cref="CollectorFaults.ScheduleOutages"/>).</summary>
    Outage,

    /// <summary>A connection (REST, WebSocket or gRPC) aborted because the collector went down.</summary>
    ConnectionDroppedByOutage,
}
