using System.Buffers;
using System.Collections.Frozen;
using System.Net.Http.Headers;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Raccoon;
using Google.Protobuf;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Raccoon's REST protocol: one POST per batch through one shared <see cref="HttpClient"/> (or the app's <see cref="IHttpClientFactory"/> client, see <see cref="HttpClientSource"/>), with an
/// <c>application/proto</c> body (the default) or Raccoon's <c>application/json</c>. Raccoon matches the
/// content type exactly, so it is sent without parameters. The response is read up to a size limit and
/// counts as an ack only when it is 2xx, STATUS_SUCCESS, CODE_OK and names this request's req_guid.
/// </summary>
internal sealed class HttpTransport : IEventTransport
{
    private const string ProtoMediaType = "application/proto";

    private readonly HttpClientSource _clients;
    private readonly PipelineSettings _settings;
    private readonly FrozenDictionary<string, string> _headers;
    private readonly bool _json;
    private readonly int _maxResponseBytes = ClickstreamDefaults.MaxResponseBytes;

    public HttpTransport(PipelineSettings settings, bool json)
    {
        _settings = settings;
        _headers = settings.Headers;
        _json = json;
        _clients = new HttpClientSource(settings);
    }

    public async Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_settings.RequestTimeout, _settings.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var body = RaccoonRequest.Encode(_json, requestGuid, _settings.TimeProvider.GetUtcNow(), events);
        try
        {
            using var content = new ByteArrayContent(body.Buffer, 0, body.Length);
            content.Headers.ContentType = new MediaTypeHeaderValue(_json ? RaccoonJson.ContentType : ProtoMediaType);
            using var request = new HttpRequestMessage(HttpMethod.Post, _settings.Endpoint) { Content = content };
            foreach (var header in _headers)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            if (await TransportSupport.AuthorizationAsync(_settings, linked.Token).ConfigureAwait(false) is { } authorization)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await _clients.Get().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            return await ReadOutcomeAsync(response, requestGuid, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new SendOutcome(SendResult.Timeout, Detail: $"no response within {_settings.RequestTimeout}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return FailureClassifier.FromException(ex);
        }
    }

    public void Dispose() => _clients.Dispose();

    private async Task<SendOutcome> ReadOutcomeAsync(HttpResponseMessage response, Guid requestGuid, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[] body;
        int length;
        await using (stream.ConfigureAwait(false))
        {
            (body, length) = await ReadBoundedAsync(stream, _maxResponseBytes, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (length > _maxResponseBytes)
            {
                return new SendOutcome(SendResult.InvalidResponse, status, $"response body over {_maxResponseBytes} bytes");
            }

            var parsed = Parse(response.Content.Headers.ContentType, body.AsSpan(0, length), out var parseError);
            var outcome = RaccoonAck.Classify(status, parsed, parseError, requestGuid);
            return outcome.IsAcknowledged ? outcome : outcome with { RetryAfter = RetryAfter(response.Headers.RetryAfter) };
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>Retry-After in either form, delta-seconds or an HTTP date, as a delay from now (never negative).</summary>
    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var delay = date - _settings.TimeProvider.GetUtcNow();
            return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
        }

        return null;
    }

    /// <summary>Reads at most <paramref name="limit"/> + 1 bytes into a pooled buffer: a longer body is not read on.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBoundedAsync(Stream stream, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 4096));
        var length = 0;
        while (length <= limit)
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return (buffer, length);
    }

    private static SendEventResponse? Parse(MediaTypeHeaderValue? contentType, ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        var mediaType = contentType?.MediaType;
        try
        {
            if (string.Equals(mediaType, RaccoonJson.ContentType, StringComparison.OrdinalIgnoreCase))
            {
                return RaccoonJson.ReadResponse(body);
            }

            if (string.Equals(mediaType, ProtoMediaType, StringComparison.OrdinalIgnoreCase)
                || string.Equals(mediaType, "application/x-protobuf", StringComparison.OrdinalIgnoreCase)
                || string.Equals(mediaType, "application/octet-stream", StringComparison.OrdinalIgnoreCase))
            {
                return SendEventResponse.Parser.ParseFrom(body);
            }

            error = $"unexpected content type '{contentType}'";
        }
        catch (InvalidProtocolBufferException ex)
        {
            error = ex.Message;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
        }

        return null;
    }
}
