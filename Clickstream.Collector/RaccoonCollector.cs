using System.Net;
using Clickstream.Collector.Hosting;
using Clickstream.Collector.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Clickstream.Collector;

/// <summary>
/// A Raccoon-compatible collector on Kestrel, for tests, the demo and benchmarks: <c>POST /api/v1/events</c>
/// (<c>application/proto</c> or <c>application/json</c>) and <c>GET /ping</c>, answered as Raccoon answers them,
/// with <see cref="Stats"/> of what arrived and <see cref="Faults"/> to switch on.
/// </summary>
/// <example>
/// <code>
/// await using var collector = await RaccoonCollector.StartAsync();
/// // point a client at collector.EventsEndpoint, then:
/// await collector.WaitForEventsAsync(100, cancellationToken);
/// </code>
/// </example>
public sealed class RaccoonCollector : IAsyncDisposable
{
    // In-flight requests get this long to finish when the collector stops; then their connections are aborted.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private int _disposed;

    private RaccoonCollector(WebApplication app, Uri baseAddress, CollectorStats stats, CollectorFaults faults)
    {
        _app = app;
        BaseAddress = baseAddress;
        EventsEndpoint = new Uri(baseAddress, CollectorDefaults.EventsPath);
        Stats = stats;
        Faults = faults;
    }

    /// <summary>The collector's root, e.g. <c>http://127.0.0.1:41234/</c>, with the port actually bound.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The REST events endpoint, <see cref="BaseAddress"/> + <c>api/v1/events</c>.</summary>
    public Uri EventsEndpoint { get; }

    /// <summary>What the collector received.</summary>
    public CollectorStats Stats { get; }

    /// <summary>Failures to inject; all off at start.</summary>
    public CollectorFaults Faults { get; }

    /// <summary>Starts a collector and returns once it is listening.</summary>
    /// <param name="options">The options, read once; null for the defaults (127.0.0.1, a free port, events kept).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running collector; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="IOException">The address could not be bound (e.g. the port is in use).</exception>
    public static async Task<RaccoonCollector> StartAsync(CollectorOptions? options = null, CancellationToken cancellationToken = default)
    {
        CollectorSettings settings = CollectorSettings.From(options ?? new CollectorOptions());
        var stats = new CollectorStats(settings.KeepEvents);
        var faults = new CollectorFaults();
        var events = new EventsHandler(stats, faults, settings.TimeProvider);

        // The empty builder reads no configuration files or environment variables and adds no logging
        // providers: nothing on the console, no file watchers, and no ASPNETCORE_URLS surprises.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // Raccoon reads any body size (Go's io.ReadAll); only its Kafka sink limits single events.
            kestrel.Limits.MaxRequestBodySize = null;

            // HTTP/1.1 only, as Raccoon's REST port. Without TLS there is no ALPN, and Kestrel accepts cleartext
            // HTTP/2 (prior knowledge, what gRPC clients use) only on an HTTP/2-only endpoint: gRPC needs a
            // listener of its own, as Raccoon has (port 8081).
            kestrel.Listen(settings.Address, settings.Port, listen => listen.Protocols = HttpProtocols.Http1);
        });

        WebApplication app = builder.Build();
        app.MapGet(CollectorDefaults.PingPath, (RequestDelegate)PingHandler.HandleAsync);
        app.MapPost(CollectorDefaults.EventsPath, (RequestDelegate)events.HandleAsync);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return new RaccoonCollector(app, BoundAddress(app, settings.Address), stats, faults);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> events have been accepted in total.</summary>
    /// <param name="count">The total of <see cref="CollectorStats.Events"/> to wait for.</param>
    /// <param name="cancellationToken">Cancels the wait (the task is then canceled).</param>
    /// <returns>A task that completes when the count is reached, or fails with <see cref="ObjectDisposedException"/> if the collector stops first.</returns>
    public Task WaitForEventsAsync(long count, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return Stats.WaitForEventsAsync(count, cancellationToken);
    }

    /// <summary>Stops Kestrel: in-flight requests get a few seconds, then their connections are aborted.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stats.FailWaiters(new ObjectDisposedException(nameof(RaccoonCollector), "The collector stopped before the events arrived."));
        using (var budget = new CancellationTokenSource(ShutdownTimeout))
        {
            await _app.StopAsync(budget.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static Uri BoundAddress(WebApplication app, IPAddress requested)
    {
        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        int port = new Uri(addresses.Addresses.First()).Port;

        // A wildcard address is not something a client can dial: give the loopback of the same family.
        IPAddress dialable = requested.Equals(IPAddress.Any) ? IPAddress.Loopback
            : requested.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : requested;
        return new Uri($"http://{new IPEndPoint(dialable, port)}/");
    }
}
