using System.Buffers;
using System.IO.Pipelines;
using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Clickstream.Collector.Rest;

/// <summary>
/// <c>POST /api/v1/events</c>, answering as Raccoon's REST handler does (raystack/raccoon server/rest/handler.go),
/// with async acks: SUCCESS once the body decoded.
/// </summary>
internal sealed class EventsHandler(CollectorStats stats, CollectorFaults faults, TimeProvider timeProvider)
{
    public const string ProtoContentType = "application/proto";

    // Raccoon's own reason strings. It uses "deserialization failure" for a body it cannot read (500) too.
    private const string InvalidContentTypeReason = "invalid content type";
    private const string DeserializationFailureReason = "deserialization failure";

    // Injected faults look like Raccoon's sync-ack publish failure ("cannot publish events: %s").
    private const string InjectedInternalErrorReason = "cannot publish events: injected fault";
    private const string InjectedBadRequestReason = "injected fault";

    private const string RequestGuidKey = "req_guid";
    private const int ResponseBufferSize = 256;
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

        if (format is not { } wire)
        {
            stats.OnRejected();

            // Raccoon writes this one as JSON whatever the request's content type.
            await RespondAsync(context, StatusCodes.Status400BadRequest, WireFormat.Json, Error(Code.BadRequest, InvalidContentTypeReason));
            return;
        }

        SendEventRequest? received;
        try
        {
            received = await ReadRequestAsync(request.BodyReader, wire, request.ContentLength, aborted);
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
            await RespondAsync(context, StatusCodes.Status500InternalServerError, wire, Error(Code.InternalError, DeserializationFailureReason));
            return;
        }

        if (received is null)
        {
            stats.OnRejected();
            await RespondAsync(context, StatusCodes.Status400BadRequest, wire, Error(Code.BadRequest, DeserializationFailureReason));
            return;
        }

        if (faults.TryTakeFailure(out int faultStatus))
        {
            stats.OnFailed();
            SendEventResponse failure = faultStatus < StatusCodes.Status500InternalServerError
                ? Error(Code.BadRequest, InjectedBadRequestReason)
                : Error(Code.InternalError, InjectedInternalErrorReason);
            failure.Data.Add(RequestGuidKey, received.ReqGuid);
            await RespondAsync(context, faultStatus, wire, failure);
            return;
        }

        stats.OnAccepted(received);
        string ackGuid = faults.RespondWithWrongRequestGuid ? "not-" + received.ReqGuid : received.ReqGuid;
        var success = new SendEventResponse
        {
            Status = Status.Success,
            Code = Code.Ok,
            Data = { { RequestGuidKey, ackGuid } },
        };
        await RespondAsync(context, StatusCodes.Status200OK, wire, success);
    }

    /// <summary>Reads and decodes the whole body; null when it does not decode.</summary>
    /// <exception cref="IOException">The body could not be read.</exception>
    /// <exception cref="BadHttpRequestException">The body could not be read.</exception>
    private static async ValueTask<SendEventRequest?> ReadRequestAsync(
        PipeReader reader, WireFormat format, long? contentLength, CancellationToken cancellationToken)
    {
        PooledBufferWriter? copy = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCompleted && copy is null)
                {
                    // The whole body arrived in one read: decode it where it lies, without a copy.
                    SendEventRequest? decoded = TryDecode(format, buffer);
                    reader.AdvanceTo(buffer.End);
                    return decoded;
                }

                // Otherwise consume as we go: a large body left unconsumed in Kestrel's pipe stalls the
                // connection (HTTP/1.1 pauses at MaxRequestBufferSize, HTTP/2 at the stream's window).
                copy ??= new PooledBufferWriter(InitialBodyBuffer(contentLength, buffer.Length));
                copy.Write(buffer);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return TryDecode(format, new ReadOnlySequence<byte>(copy.WrittenMemory));
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

    private static SendEventRequest? TryDecode(WireFormat format, in ReadOnlySequence<byte> body)
    {
        try
        {
            // Both decoders copy what they keep (strings, event bytes), so the buffer can be reused afterwards.
            return format == WireFormat.Proto
                ? SendEventRequest.Parser.ParseFrom(body)
                : RaccoonJson.ReadRequest(body);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static SendEventResponse Error(Code code, string reason) =>
        new() { Status = Status.Error, Code = code, Reason = reason };

    private async Task RespondAsync(HttpContext context, int statusCode, WireFormat format, SendEventResponse response)
    {
        CancellationToken aborted = context.RequestAborted;
        try
        {
            TimeSpan delay = faults.Delay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, timeProvider, aborted);
            }

            response.SentTime = timeProvider.GetUtcNow().ToUnixTimeSeconds();
            using var body = new PooledBufferWriter(ResponseBufferSize);
            if (format == WireFormat.Proto)
            {
                response.WriteTo(body);
            }
            else
            {
                RaccoonJson.WriteResponse(response, body);
            }

            context.Response.StatusCode = statusCode;
            context.Response.ContentLength = body.WrittenCount;
            await context.Response.Body.WriteAsync(body.WrittenMemory, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away (or the collector is stopping): nobody to answer.
        }
    }
}
