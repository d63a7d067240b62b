// The counting stub of the benchmarks, in its own process so that its work is not charged to the client measured:
//   dotnet Clickstream.Benchmarks.Stub.dll
// Listens on 127.0.0.1 (ephemeral ports) and prints one line: "stub <base> collector <rest> <websocket> <grpc>".
//   POST /api/v1/events  Raccoon SendEventRequest (application/proto): events counted, SUCCESS ack with its req_guid
//   POST /v1/logs        OTLP ExportLogsServiceRequest (application/x-protobuf): log records counted, 200 + empty response
//   GET  /count          "events <n> eventRequests <n> logRecords <n> logRequests <n> badRequests <n> collectorEvents <n>"
//   GET  /ping           200
// It also hosts a Clickstream.Collector (KeepEvents off) for the transports the stub does not speak (Raccoon JSON,
// gRPC, WebSocket); its event count is in /count. Exits when its standard input closes.
using System.Buffers;
using System.Globalization;
using Clickstream.Benchmarks.Stub;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

const string ProtoContentType = "application/proto";
const string OtlpContentType = "application/x-protobuf";

var counts = new StubCounts();
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Error);
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(System.Net.IPAddress.Loopback, 0);
    k.Limits.MaxRequestBodySize = null;
});

var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false, GrpcPort = 0 });
await using var app = builder.Build();
app.MapPost("/api/v1/events", async context =>
{
    var body = await ReadBodyAsync(context.Request);
    try
    {
        if (!ProtoCounter.TryCountRaccoon(body.Sequence, out var requestGuid, out var events))
        {
            counts.OnBadRequest();
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        counts.OnEvents(events);
        var ack = new SendEventResponse
        {
            Status = Status.Success,
            Code = Code.Ok,
            SentTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Data = { ["req_guid"] = requestGuid },
        };
        context.Response.ContentType = ProtoContentType;
        var answer = ack.ToByteArray();
        context.Response.ContentLength = answer.Length;
        await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    }
    finally
    {
        body.Release();
    }
});
app.MapPost("/v1/logs", async context =>
{
    var body = await ReadBodyAsync(context.Request);
    try
    {
        if (!ProtoCounter.TryCountLogRecords(body.Sequence, out var records))
        {
            counts.OnBadRequest();
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // An empty ExportLogsServiceResponse is zero bytes.
        counts.OnLogRecords(records);
        context.Response.ContentType = OtlpContentType;
        context.Response.ContentLength = 0;
    }
    finally
    {
        body.Release();
    }
});
app.MapGet("/count", context => context.Response.WriteAsync(string.Create(
    CultureInfo.InvariantCulture,
    $"events {counts.Events} eventRequests {counts.EventRequests} logRecords {counts.LogRecords} logRequests {counts.LogRequests} badRequests {counts.BadRequests} collectorEvents {collector.Stats.Events}")));
app.MapGet("/ping", () => Results.Ok());

await using (collector)
{
    await app.StartAsync();
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    Console.WriteLine($"stub {address}/ collector {collector.EventsEndpoint} {collector.WebSocketEndpoint} {collector.GrpcAddress}");

    // Runs until the benchmark process closes our standard input (or dies, which closes it too).
    await Console.In.ReadToEndAsync();
    await app.StopAsync();
}

return 0;

// The whole body, in pooled segments consumed from Kestrel's pipe as they come.
static async Task<PooledBody> ReadBodyAsync(HttpRequest request)
{
    var body = new PooledBody(checked((int)(request.ContentLength ?? 4096)));
    var reader = request.BodyReader;
    while (true)
    {
        var result = await reader.ReadAsync();
        foreach (var segment in result.Buffer)
        {
            body.Write(segment.Span);
        }

        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            return body;
        }
    }
}

/// <summary>A request body copied into one pooled array.</summary>
internal sealed class PooledBody(int capacity)
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
    private int _length;

    public ReadOnlySequence<byte> Sequence => new(_buffer, 0, _length);

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + data.Length));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    public void Release() => ArrayPool<byte>.Shared.Return(_buffer);
}
