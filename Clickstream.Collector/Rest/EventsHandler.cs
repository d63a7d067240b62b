using System.Buffers;
using System.IO.Pipelines;
using Clickstream.Collector.Requests;
using Clickstream.Collector.Wire;
using Clickstream.Raccoon;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Clickstream.Collector.Rest;

/// <summary>
/// <c>POST /api/v1/events</c>, answering as Raccoon's REST handler does (raystack/raccoon server/rest/handler.go),
/// with async acks: SUCCESS once the body decoded.
/// </summary>
/// <remarks>
/// The collector's access rules (<see cref="CollectorOptions.BearerToken"/>, <see cref="CollectorOptions.RequireIdentity"/>)
/// come first, as a gateway in front of Raccoon would check them: 401 with a STATUS_ERROR, CODE_BAD_REQUEST body.
/// Raccoon itself reads the identity headers on REST but requires none.
/// A body over <see cref="CollectorOptions.MaxRequestBytes"/> is answered 413 with a STATUS_ERROR, CODE_BAD_REQUEST body
/// naming the limit (Raccoon reads any size; a bound is needed, and 413 is what a gateway in front of it answers), as
/// soon as its Content-Length or the bytes read so far show it, without buffering more.
/// </remarks>
internal sealed class EventsHandler(CollectorSettings settings, AccessPolicy access, RequestAcceptor acceptor, CollectorStats stats)
{
    public const string ProtoContentType = "application/proto";

    // Raccoon's own reason strings. It uses "deserialization failure" for a body it cannot read (500) too.
    private const string InvalidContentTypeReason = "invalid content type";
    private const string DeserializationFailureReason = "deserialization failure";

    private const int MaxInitialBodyBuffer = 4 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        stats.OnRequest();
        HttpRequest request = context.Request;
        CancellationToken aborted = context.RequestAborted;

        // Raccoon looks the header up as-is in a map: no parsing, so "application/json; charset=utf-8" is unknown.
        // It also echoes the header as the response's Content-Type, even one it rejects.
        StringValues header = request.Headers.ContentType;
        string contentType = header.Count == 0 ? string.Empty : header[0] ?? string.Empty;
        if (contentType.Length != 0)
        {
            context.Response.ContentType = contentType;
        }

        WireFormat? format = contentType switch
        {
            ProtoContentType => WireFormat.Proto,
            RaccoonJson.ContentType => WireFormat.Json,
            _ => null,
        };

        var identity = ClientIdentity.From(request.Headers, settings);
        string? authorization = request.Headers.Authorization.Count == 0 ? null : request.Headers.Authorization[0];
        AccessDecision decision = access.Check(authorization, identity);
        if (decision != AccessDecision.Allowed)
        {
            stats.OnRejected();
            await HttpAnswer.RefuseAsync(context, decision, format ?? WireFormat.Json, acceptor);
            return;
        }

        if (format is not { } wire)
        {
            stats.OnRejected();

            // Raccoon writes this one as JSON whatever the request's content type.
            await RespondAsync(context, StatusCodes.Status400BadRequest, WireFormat.Json, RequestAcceptor.Error(Code.BadRequest, InvalidContentTypeReason));
            return;
        }

        // The collector's own limit governs, not Kestrel's (30 MB, which would end the request with a bare 413 or a 500).
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrelLimit)
        {
            kestrelLimit.MaxRequestBodySize = null;
        }

        int maxBytes = settings.MaxRequestBytes;
        SendEventRequest? received;
        bool tooLarge;
        try
        {
            (received, tooLarge) = request.ContentLength > maxBytes
                ? (null, true)
                : await ReadRequestAsync(request.BodyReader, wire, request.ContentLength, maxBytes, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
            stats.OnRejected();
            return;
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException)
        {
            stats.OnRejected();
            await RespondAsync(context, StatusCodes.Status500InternalServerError, wire, RequestAcceptor.Error(Code.InternalError, DeserializationFailureReason));
            return;
        }

        if (tooLarge)
        {
            stats.OnRejected();
            await RespondAsync(context, StatusCodes.Status413PayloadTooLarge, wire, RequestAcceptor.Error(Code.BadRequest, TooLargeReason(maxBytes)));
            return;
        }

        if (received is null)
        {
            stats.OnRejected();
            await RespondAsync(context, StatusCodes.Status400BadRequest, wire, RequestAcceptor.Error(Code.BadRequest, DeserializationFailureReason));
            return;
        }

        RequestOutcome outcome = acceptor.Process(received, new RequestOrigin(CollectorProtocol.Rest, identity, authorization));
        await AnswerAsync(context, wire, outcome);
    }

    /// <summary>The reason of a 413: the limit, in bytes, and the option that sets it.</summary>
    internal static string TooLargeReason(int maxBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"request body larger than the limit of {maxBytes} bytes (collector {CollectorFlags.MaxRequestBytes})");

    /// <summary>
    /// Reads and decodes the whole body; null when it does not decode. TooLarge, without reading on, once more than
    /// <paramref name="maxBytes"/> have come.
    /// </summary>
    /// <exception cref="IOException">The body could not be read.</exception>
    /// <exception cref="BadHttpRequestException">The body could not be read.</exception>
    private static async ValueTask<(SendEventRequest? Request, bool TooLarge)> ReadRequestAsync(
        PipeReader reader, WireFormat format, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        PooledBufferWriter? copy = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (buffer.Length + (copy?.WrittenCount ?? 0) > maxBytes)
                {
                    reader.AdvanceTo(buffer.End);
                    return (null, true);
                }

                if (result.IsCompleted && copy is null)
                {
                    // The whole body arrived in one read: decode it where it lies, without a copy.
                    WireCodec.TryDecode(format, buffer, out SendEventRequest? decoded, out _);
                    reader.AdvanceTo(buffer.End);
                    return (decoded, false);
                }

                // Otherwise consume as we go: a large body left unconsumed in Kestrel's pipe stalls the
                // connection (HTTP/1.1 pauses at MaxRequestBufferSize, HTTP/2 at the stream's window).
                copy ??= new PooledBufferWriter(InitialBodyBuffer(contentLength, buffer.Length));
                copy.Write(buffer);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    WireCodec.TryDecode(format, new ReadOnlySequence<byte>(copy.WrittenMemory), out SendEventRequest? request, out _);
                    return (request, false);
                }
            }
        }
        finally
        {
            copy?.Dispose();
        }
    }

    private static int InitialBodyBuffer(long? contentLength, long firstRead) =>
        (int)Math.Min(Math.Max(contentLength ?? 0, firstRead * 2), MaxInitialBodyBuffer);

    private Task RespondAsync(HttpContext context, int statusCode, WireFormat format, SendEventResponse response) =>
        AnswerAsync(context, format, new RequestOutcome(statusCode, response));

    private async Task AnswerAsync(HttpContext context, WireFormat format, RequestOutcome outcome)
    {
        try
        {
            await acceptor.HoldAnswerAsync(outcome.Fault, context.RequestAborted);
            acceptor.Stamp(outcome.Response);
            switch (outcome.Fault)
            {
                case { Kind: FaultKind.ConnectionReset }:
                    context.Abort();
                    break;
                case { Kind: FaultKind.TruncatedResponse }:
                    await HttpAnswer.WriteTruncatedAsync(context, format, outcome.Response);
                    break;
                case { Kind: FaultKind.MalformedResponse }:
                    await HttpAnswer.WriteMalformedAsync(context);
                    break;
                default:
                    if (outcome.Fault?.RetryAfter is { } retryAfter)
                    {
                        context.Response.Headers.RetryAfter = acceptor.RetryAfterHeader(retryAfter);
                    }

                    await HttpAnswer.WriteAsync(context, outcome.StatusCode, format, outcome.Response);
                    break;
            }
        }
        catch (OperationCanceledException) when (acceptor.Stopping.IsCancellationRequested)
        {
            // The collector stops with this answer withheld: the request ends as a server going away ends it.
            context.Abort();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
    }
}
