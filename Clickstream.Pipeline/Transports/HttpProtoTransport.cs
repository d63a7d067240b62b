using System.Buffers;
using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Raccoon;
using Google.Protobuf;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Raccoon's REST protocol with <c>application/proto</c> bodies: one POST per batch through one shared
/// <see cref="HttpClient"/>. The request is encoded into a pooled buffer; the response is read up to a size
/// limit and counts as an ack only when it is 2xx, STATUS_SUCCESS, CODE_OK and names this request's req_guid.
/// </summary>
internal sealed class HttpProtoTransport : IEventTransport
{
    private const string ProtoMediaType = "application/proto";

    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly FrozenDictionary<string, string> _headers;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly int _maxResponseBytes;

    public HttpProtoTransport(PipelineSettings settings)
    {
        _endpoint = settings.Endpoint;
        _headers = settings.Headers;
        _timeProvider = settings.TimeProvider;
        _timeout = settings.RequestTimeout;
        _maxResponseBytes = ClickstreamDefaults.MaxResponseBytes;
        if (settings.HttpMessageHandler is { } handler)
        {
            _client = new HttpClient(handler, disposeHandler: false);
        }
        else
        {
            _client = new HttpClient(new SocketsHttpHandler
            {
                // Recycle connections so that DNS changes of the collector are seen.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = settings.MaxConcurrentRequests,
                AutomaticDecompression = DecompressionMethods.None,
            });
        }

        // The per-request timeout comes from the TimeProvider, so that tests control it.
        _client.Timeout = Timeout.InfiniteTimeSpan;
    }

    public async Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        var sentTime = _timeProvider.GetUtcNow();
        var size = RaccoonWire.RequestSize(events, sentTime);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        using var timeout = new CancellationTokenSource(_timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var written = RaccoonWire.WriteRequest(buffer, requestGuid, sentTime, events);
            using var content = new ByteArrayContent(buffer, 0, written);
            content.Headers.ContentType = new MediaTypeHeaderValue(ProtoMediaType);
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };
            foreach (var header in _headers)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            return await ReadOutcomeAsync(response, requestGuid, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new SendOutcome(SendResult.Timeout, Detail: $"no response within {_timeout}");
        }
        catch (HttpRequestException ex)
        {
            return new SendOutcome(SendResult.NetworkError, (int?)ex.StatusCode ?? 0, ex.Message);
        }
        catch (IOException ex)
        {
            return new SendOutcome(SendResult.NetworkError, Detail: ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<SendOutcome> ReadOutcomeAsync(HttpResponseMessage response, Guid requestGuid, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var body = ArrayPool<byte>.Shared.Rent(Math.Min(_maxResponseBytes + 1, 4096));
        try
        {
            var length = 0;
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    if (length == body.Length)
                    {
                        if (length > _maxResponseBytes)
                        {
                            return new SendOutcome(SendResult.InvalidResponse, status, $"response body over {_maxResponseBytes} bytes");
                        }

                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(body.Length * 2, _maxResponseBytes + 1));
                        body.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(body);
                        body = larger;
                    }

                    var read = await stream.ReadAsync(body.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }

            if (length > _maxResponseBytes)
            {
                return new SendOutcome(SendResult.InvalidResponse, status, $"response body over {_maxResponseBytes} bytes");
            }

            SendEventResponse? parsed = null;
            string? parseError = null;
            if (IsProto(response.Content.Headers.ContentType))
            {
                try
                {
                    parsed = SendEventResponse.Parser.ParseFrom(body, 0, length);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    parseError = ex.Message;
                }
            }
            else
            {
                parseError = $"unexpected content type '{response.Content.Headers.ContentType}'";
            }

            return Classify(status, parsed, parseError, requestGuid);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>Only an ack of this very request counts as delivered; everything else is a failure with a kind.</summary>
    internal static SendOutcome Classify(int status, SendEventResponse? response, string? parseError, Guid requestGuid)
    {
        var reason = response?.Reason is { Length: > 0 } r ? r : parseError;
        if (status >= 500 || response?.Code == Code.InternalError)
        {
            return new SendOutcome(SendResult.ServerError, status, reason);
        }

        if (status >= 400 || response?.Code == Code.BadRequest)
        {
            return new SendOutcome(SendResult.Rejected, status, reason);
        }

        if (status is < 200 or >= 300 || response is null)
        {
            return new SendOutcome(SendResult.InvalidResponse, status, reason ?? "no response body");
        }

        if (response.Status != Status.Success || response.Code != Code.Ok)
        {
            return new SendOutcome(SendResult.ServerError, status, $"{response.Status}/{response.Code}: {response.Reason}");
        }

        if (!response.Data.TryGetValue("req_guid", out var acknowledged) || !Guid.TryParse(acknowledged, out var ackGuid) || ackGuid != requestGuid)
        {
            return new SendOutcome(SendResult.InvalidResponse, status, $"ack names req_guid '{acknowledged}', not '{requestGuid}'");
        }

        return SendOutcome.Acknowledged;
    }

    public void Dispose()
    {
        // Disposes the handler only when the pipeline made it (disposeHandler: false otherwise).
        _client.Dispose();
    }

    private static bool IsProto(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType is { } mediaType
        && (mediaType.Equals(ProtoMediaType, StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase));
}
