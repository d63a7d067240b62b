// Standalone Raccoon-compatible collector:
// dotnet run --project Clickstream.Collector -- --port 8080 [--host 127.0.0.1] [--grpc-port 8081] [--require-identity] [--bearer-token T]
//   [--fail-rate 0.1 --fail-status 503 --retry-after 5] [--reset-rate 0.05] [--delay 50ms] [--down-every 60s --down-for 10s] ...
// (--help lists every fault flag.)
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Clickstream.Collector;

const int UsageError = 2;
const int StartFailure = 1;

CommandLine.Result parsed = CommandLine.Parse(args);
if (parsed.ShowHelp)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

if (parsed.Options is null)
{
    Console.Error.WriteLine($"error: {parsed.Error}");
    Console.Error.WriteLine();
    Console.Error.WriteLine(CommandLine.Usage);
    return UsageError;
}

using var stop = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

RaccoonCollector collector;
try
{
    collector = await RaccoonCollector.StartAsync(parsed.Options, stop.Token);
}
catch (IOException e)
{
    string ports = parsed.Options.GrpcPort is { } grpcPort ? $"{parsed.Options.Port} and {grpcPort}" : $"{parsed.Options.Port}";
    Console.Error.WriteLine($"error: cannot listen on {parsed.Options.Host} port {ports}: {e.Message}");
    return StartFailure;
}

await using (collector)
{
    Console.WriteLine("Raccoon collector listening:");
    Console.WriteLine($"  REST       POST {collector.EventsEndpoint} (application/proto, application/json)");
    Console.WriteLine($"  WebSocket  {collector.WebSocketEndpoint} (binary protobuf, text JSON)");
    if (collector.GrpcAddress is { } grpcAddress)
    {
        Console.WriteLine($"  gRPC       {grpcAddress} raystack.raccoon.v1beta1.EventService/SendEvent");
    }

    Console.WriteLine($"  health     GET {collector.BaseAddress}ping");
    if (parsed.Options.RequireIdentity || parsed.Options.BearerToken is not null)
    {
        Console.WriteLine($"  requires   {(parsed.Options.RequireIdentity ? "X-User-ID " : string.Empty)}{(parsed.Options.BearerToken is null ? string.Empty : "Authorization: Bearer <token>")}".TrimEnd());
    }

    if (parsed.Faults is { IsEmpty: false } faults)
    {
        faults.ApplyTo(collector.Faults);
        Console.WriteLine("Faults:");
        foreach (string line in faults.Describe())
        {
            Console.WriteLine($"  {line}");
        }
    }

    Console.WriteLine("Ctrl+C to stop.");

    CollectorStats stats = collector.Stats;
    long lastRequests = 0;
    long lastEvents = 0;
    long lastTimestamp = Stopwatch.GetTimestamp();
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
    try
    {
        while (await timer.WaitForNextTickAsync(stop.Token))
        {
            long requests = stats.Requests;
            long events = stats.Events;
            long now = Stopwatch.GetTimestamp();
            double seconds = Stopwatch.GetElapsedTime(lastTimestamp, now).TotalSeconds;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss}  {(requests - lastRequests) / seconds,8:F0} requests/s  {(events - lastEvents) / seconds,10:F0} events/s  total {events} events, {stats.RejectedRequests} rejected, {stats.FailedRequests} failed, {stats.OpenWebSocketConnections} WebSockets open{(collector.Faults.IsDown ? ", DOWN" : string.Empty)}"));
            (lastRequests, lastEvents, lastTimestamp) = (requests, events, now);
        }
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
    }

    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"Stopping: {stats.Requests} requests ({stats.AcceptedRequests} accepted, {stats.RejectedRequests} rejected, {stats.FailedRequests} failed), {stats.Events} events."));
    IReadOnlyDictionary<FaultKind, long> injected = stats.FaultsByKind();
    if (injected.Count != 0)
    {
        Console.WriteLine($"Faults injected: {string.Join(", ", injected.Select(fault => $"{fault.Value} {fault.Key}"))}.");
    }
}

return 0;
