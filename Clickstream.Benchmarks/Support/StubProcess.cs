using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Clickstream.Pipeline;

namespace Clickstream.Benchmarks.Support;

/// <summary>
/// The counting stub (Clickstream.Benchmarks.Stub) in a child process: started on ephemeral loopback ports, asked for
/// what it received (<see cref="GetCountsAsync"/>), stopped by closing its standard input.
/// </summary>
internal sealed class StubProcess : IAsyncDisposable
{
    private readonly Process _process;

    private StubProcess(Process process, StubAddresses addresses)
    {
        _process = process;
        Addresses = addresses;
    }

    /// <summary>Where the stub and its collector listen.</summary>
    public StubAddresses Addresses { get; }

    public static async Task<StubProcess> StartAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(LocateStub());
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the stub process.");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (!StubAddresses.TryParse(line, out var addresses))
        {
            process.Kill();
            throw new InvalidOperationException($"The stub did not announce its addresses: '{line}'.");
        }

        return new StubProcess(process, addresses);
    }

    /// <summary>What the stub has received so far.</summary>
    public Task<StubCounts> GetCountsAsync() => StubClient.GetCountsAsync(Addresses.BaseAddress);

    /// <summary>The stub's CPU time so far (user + system).</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    /// <summary>The stub's dll, built with the benchmarks (a ProjectReference) in the same configuration.</summary>
    private static string LocateStub()
    {
#if DEBUG
        const string Configuration = "Debug";
#else
        const string Configuration = "Release";
#endif
        var root = RepositoryRoot.Find();
        var path = Path.Combine(root, "Clickstream.Benchmarks.Stub", "bin", Configuration, "net10.0", "Clickstream.Benchmarks.Stub.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The stub is not built: {path}. Build Clickstream.Benchmarks in {Configuration}.", path);
    }
}

/// <summary>Where the stub listens (its own server, and the collector in its process); announced as one line on its stdout.</summary>
internal sealed record StubAddresses(Uri BaseAddress, Uri CollectorEventsEndpoint, Uri CollectorWebSocketEndpoint, Uri CollectorGrpcAddress)
{
    /// <summary>Raccoon REST (application/proto only), answered by the counting stub.</summary>
    public Uri EventsEndpoint => new(BaseAddress, "api/v1/events");

    /// <summary>OTLP/HTTP logs (application/x-protobuf), answered by the counting stub.</summary>
    public Uri LogsEndpoint => new(BaseAddress, "v1/logs");

    /// <summary>The endpoint for <paramref name="transport"/>: the counting stub for REST proto unless <paramref name="collector"/>, the collector otherwise.</summary>
    public Uri EndpointFor(ClickstreamTransport transport, bool collector = false) => transport switch
    {
        ClickstreamTransport.Grpc => CollectorGrpcAddress,
        ClickstreamTransport.WebSocket => CollectorWebSocketEndpoint,
        ClickstreamTransport.HttpJson => CollectorEventsEndpoint,
        _ => collector ? CollectorEventsEndpoint : EventsEndpoint,
    };

    /// <summary>The announcement's fields, as the child processes receive them on their command line.</summary>
    public string[] ToArguments() => ["stub", BaseAddress.ToString(), "collector", CollectorEventsEndpoint.ToString(), CollectorWebSocketEndpoint.ToString(), CollectorGrpcAddress.ToString()];

    public static bool TryParse(string? line, [NotNullWhen(true)] out StubAddresses? addresses) => TryParse(line?.Split(' ') ?? [], out addresses);

    public static bool TryParse(string[] fields, [NotNullWhen(true)] out StubAddresses? addresses)
    {
        addresses = fields is ["stub", var stub, "collector", var rest, var webSocket, var grpc]
            ? new StubAddresses(new Uri(stub), new Uri(rest), new Uri(webSocket), new Uri(grpc))
            : null;
        return addresses is not null;
    }
}

/// <summary>Reads the stub's counters over HTTP (GET /count).</summary>
internal static class StubClient
{
    private static readonly HttpClient Client = new();

    public static async Task<StubCounts> GetCountsAsync(Uri stub)
    {
        var text = await Client.GetStringAsync(new Uri(stub, "count"));
        var parts = text.Split(' ');
        long Read(string name) => long.Parse(parts[Array.IndexOf(parts, name) + 1], CultureInfo.InvariantCulture);
        return new StubCounts(Read("events"), Read("eventRequests"), Read("logRecords"), Read("logRequests"), Read("badRequests"), Read("collectorEvents"));
    }
}

/// <summary>The stub's counters: Raccoon events and requests, OTLP log records and requests, refused bodies, the collector's events.</summary>
internal readonly record struct StubCounts(long Events, long EventRequests, long LogRecords, long LogRequests, long BadRequests, long CollectorEvents);

/// <summary>The repository's root: the first folder up from the running assembly that holds Clickstream.sln.</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Clickstream.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"Clickstream.sln not found above {AppContext.BaseDirectory}.");
    }
}
