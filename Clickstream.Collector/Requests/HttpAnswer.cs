using Clickstream.Collector.Wire;
using Clickstream.Raccoon;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Clickstream.Collector.Requests;

/// <summary>Writes a SendEventResponse as an HTTP answer, and the collector's access refusals.</summary>
internal static class HttpAnswer
{
    private const int ResponseBufferSize = 256;

    /// <summary>Writes <paramref name="response"/> (its <c>sent_time</c> already set) with <paramref name="statusCode"/>.</summary>
    public static async Task WriteAsync(HttpContext context, int statusCode, WireFormat format, SendEventResponse response)
    {
        using var body = new PooledBufferWriter(ResponseBufferSize);
        WireCodec.Encode(response, format, body);
        context.Response.StatusCode = statusCode;
        context.Response.ContentLength = body.WrittenCount;
        await context.Response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted);
    }

    /// <summary>
    /// 200 with the <c>Content-Length</c> of the whole of <paramref name="response"/> and half of it: Kestrel then closes
    /// the connection (a body shorter than declared leaves it no other way), and the client's read of the body fails.
    /// </summary>
    /// <remarks>
    /// Not <c>HttpContext.Abort()</c>: an abort discards what is still in Kestrel's output pipe, and the client, reset
    /// before it read the headers, would see a plain reset. The graceful close sends every byte written, then FIN.
    /// </remarks>
    public static async Task WriteTruncatedAsync(HttpContext context, WireFormat format, SendEventResponse response)
    {
        using var body = new PooledBufferWriter(ResponseBufferSize);
        WireCodec.Encode(response, format, body);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = body.WrittenCount;
        await context.Response.Body.WriteAsync(body.WrittenMemory[..MalformedBody.TruncatedLength(body.WrittenCount)], context.RequestAborted);
    }

    /// <summary>200 with bytes that do not decode, under the <c>Content-Type</c> already echoed from the request.</summary>
    public static async Task WriteMalformedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = MalformedBody.Bytes.Length;
        await context.Response.Body.WriteAsync(MalformedBody.Bytes, context.RequestAborted);
    }

    /// <summary>
    /// 401 with a STATUS_ERROR, CODE_BAD_REQUEST body (Raccoon has no code for it), and for a token refusal the
    /// RFC 6750 challenge.
    /// </summary>
    public static Task RefuseAsync(HttpContext context, AccessDecision decision, WireFormat format, RequestAcceptor acceptor)
    {
        string reason = decision == AccessDecision.BadToken ? AccessPolicy.BadTokenReason : AccessPolicy.MissingIdentityReason;
        if (decision == AccessDecision.BadToken)
        {
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        }

        // REST has already echoed the request's Content-Type, as Raccoon does; a WebSocket upgrade has none.
        context.Response.ContentType ??= format == WireFormat.Proto ? "application/proto" : "application/json";
        SendEventResponse refusal = RequestAcceptor.Error(Code.BadRequest, reason);
        acceptor.Stamp(refusal);
        return WriteAsync(context, StatusCodes.Status401Unauthorized, format, refusal);
    }
}
