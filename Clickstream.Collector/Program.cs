// Standalone Raccoon-compatible collector:
// dotnet run --project Clickstream.Collector -- --port 8080 [--host 127.0.0.1] [--grpc-port 8081] [--require-identity] [--bearer-token T]
//   [--fail-rate 0.1 --fail-status 503 --retry-after 5] [--reset-rate 0.05] [--delay 50ms] [--down-every 60s --down-for 10s] ...
// (--help lists every fault flag.)
using System.Globalization;
using System.Runtime.InteropServices;
using Clickstream.Collector;

const int UsageError = 2;
const int StartFailure = 1;

CollectorCommandLine.Result parsed = CollectorCommandLine.Parse(args);
if (parsed.ShowHelp)
{
    Console.WriteLine(CollectorCommandLine.Usage);
    return 0;
}

if (parsed.Options is null)
{
    Console.Error.WriteLine($"error: {parsed.Error}");
    Console.Error.WriteLine();
    Console.Error.WriteLine(CollectorCommandLine.Usage);
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
    Console.Error.WriteLine($"error: {CollectorReport.CannotListen(parsed.Options, e)}");
    return StartFailure;
}

await using (collector)
{
    parsed.Faults?.ApplyTo(collector.Faults);
    foreach (string line in CollectorReport.Listening(collector, parsed.Options, parsed.Faults))
    {
        Console.WriteLine(line);
    }

    Console.WriteLine("Ctrl+C to stop.");

    CollectorStats stats = collector.Stats;
    var rates = new CollectorRates(stats, TimeProvider.System);
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
    try
    {
        while (await timer.WaitForNextTickAsync(stop.Token))
        {
            CollectorRates.Sample sample = rates.Next();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss}  {sample.RequestsPerSecond,8:F0} requests/s  {sample.EventsPerSecond,10:F0} events/s  total {stats.Events} events, {stats.RejectedRequests} rejected, {stats.FailedRequests} failed, {stats.OpenWebSocketConnections} WebSockets open{(collector.Faults.IsDown ? ", DOWN" : string.Empty)}"));
        }
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
    }

    foreach (string line in CollectorReport.Stopped(stats))
    {
        Console.WriteLine(line);
    }
}

return 0;
