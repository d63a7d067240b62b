namespace Clickstream.Pipeline.Transports;

/// <summary>How a connection ended; the reason is what each batch in flight on it fails with.</summary>
internal sealed record WebSocketEnd(WebSocketEndKind Kind, string Reason);

/// <summary>Why a WebSocket connection ended.</summary>
internal enum WebSocketEndKind
{
    /// <summary>Broken, aborted, closed by the server, or a send or receive failed: reconnect after the backoff.</summary>
    Dropped,

    /// <summary>The collector refused the connection (CODE_MAX_USER_LIMIT_REACHED, CODE_MAX_CONNECTION_LIMIT_REACHED, close 1008).</summary>
    Refused,

    /// <summary>The transport was disposed.</summary>
    Disposed,
}
