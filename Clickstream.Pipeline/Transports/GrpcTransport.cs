using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Raccoon;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Clickstream.Pipeline.Transports;

/// <summary>
/// Raccoon's gRPC protocol: unary <c>EventService/SendEvent</c> over HTTP/2 (Grpc.Net.Client). The request
/// is written by <see cref="RaccoonWire"/> straight into gRPC's buffer; headers and the Authorization value
/// go out as metadata; each call has a deadline. gRPC status codes map to failure kinds: unavailable and
/// deadline are transient, auth and unimplemented are configuration faults, invalid-argument is a rejection
/// (<see cref="FailureClassifier"/>).
/// </summary>
internal sealed class GrpcTransport : IEventTransport
{
    private readonly PipelineSettings _settings;
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly Method<OutgoingBatch, SendEventResponse> _method;

    public GrpcTransport(PipelineSettings settings)
    {
        _settings = settings;
        var handler = TransportSupport.Handler(settings, out var owned);
        _channel = GrpcChannel.ForAddress(settings.Endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = owned,
            MaxReceiveMessageSize = ClickstreamDefaults.MaxResponseBytes,
        });
        _invoker = _channel.CreateCallInvoker();
        _method = new Method<OutgoingBatch, SendEventResponse>(
            MethodType.Unary,
            settings.GrpcServiceName,
            "SendEvent",
            new Marshaller<OutgoingBatch>(Serialize, static _ => throw new NotSupportedException("The client never reads a request.")),
            new Marshaller<SendEventResponse>(
                static (response, context) => context.Complete(response.ToByteArray()),
                static context => SendEventResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));
    }

    public async Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        var timeProvider = _settings.TimeProvider;
        using var timeout = new CancellationTokenSource(_settings.RequestTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var metadata = new Metadata();
            foreach (var header in _settings.Headers)
            {
                metadata.Add(header.Key.ToLowerInvariant(), header.Value);
            }

            if (await TransportSupport.AuthorizationAsync(_settings, linked.Token).ConfigureAwait(false) is { } authorization)
            {
                metadata.Add("authorization", authorization);
            }

            var now = timeProvider.GetUtcNow();
            var options = new CallOptions(metadata, (now + _settings.RequestTimeout).UtcDateTime, linked.Token);
            using var call = _invoker.AsyncUnaryCall(_method, null, options, new OutgoingBatch(requestGuid, now, events));
            var response = await call.ResponseAsync.ConfigureAwait(false);
            return RaccoonAck.Classify(200, response, null, requestGuid);
        }
        catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The pipeline is shutting down.", ex, cancellationToken);
        }
        catch (RpcException ex) when (timeout.IsCancellationRequested)
        {
            return new SendOutcome(SendResult.Timeout, Detail: $"no response within {_settings.RequestTimeout} ({ex.StatusCode})");
        }
        catch (RpcException ex)
        {
            return new SendOutcome(Map(ex.StatusCode), (int)ex.StatusCode, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>How each gRPC status counts: see <see cref="FailureClassifier.FromGrpc"/>.</summary>
    internal static SendResult Map(StatusCode code) => FailureClassifier.FromGrpc(code);

    private static void Serialize(OutgoingBatch batch, SerializationContext context)
    {
        var size = RaccoonWire.RequestSize(batch.Events, batch.SentTime);
        context.SetPayloadLength(size);
        var writer = context.GetBufferWriter();
        var written = RaccoonWire.WriteRequest(writer.GetSpan(size), batch.RequestGuid, batch.SentTime, batch.Events);
        writer.Advance(written);
        context.Complete();
    }

    /// <summary>What the request marshaller writes: no message object is built.</summary>
    private sealed record OutgoingBatch(Guid RequestGuid, DateTimeOffset SentTime, EventEnvelope[] Events);
}
