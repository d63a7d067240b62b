using System.Net;
using Clickstream.Collector.Grpc;
using Clickstream.Collector.Hosting;
using Clickstream.Collector.Requests;
using Clickstream.Collector.Rest;
using Clickstream.Collector.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
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
/// A Raccoon-compatible collector on Kestrel, for tests, the demo and benchmarks, serving Raccoon's three protocols as
/// Raccoon answers them: REST (<c>POST /api/v1/events</c>, <c>application/proto</c> or <c>application/json</c>),
/// WebSocket (<c>GET /api/v1/events</c> upgrade on the same port) and, on a port of its own, gRPC
/// (<c>EventService/SendEvent</c>); plus <c>GET /ping</c>. <see cref="Stats"/> tell what arrived, <see cref="Faults"/>
/// inject failures.
/// </summary>
/// <example>
/// <code>
/// await using var collector = await RaccoonCollector.StartAsync(new CollectorOptions { GrpcPort = 0 });
/// // point a client at collector.EventsEndpoint, collector.WebSocketEndpoint or collector.GrpcAddress, then:
/// await collector.WaitForEventsAsync(100, cancellationToken);
/// </code>
/// </example>
public sealed class RaccoonCollector : IAsyncDisposable
{
    // In-flight requests get this long to finish when the collector stops; then their connections are aborted.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly WebApplication? _grpcApp;
    private readonly CancellationTokenSource _stopping;
    private int _disposed;

    private RaccoonCollector(
        WebApplication app, WebApplication? grpcApp, CancellationTokenSource stopping, CollectorSettings settings, CollectorStats stats, CollectorFaults faults)
    {
        _app = app;
        _grpcApp = grpcApp;
        _stopping = stopping;
        bool tls = settings.ServerCertificate is not null;
        BaseAddress = BoundAddress(app, settings.Address, tls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp);
        EventsEndpoint = new Uri(BaseAddress, CollectorDefaults.EventsPath);
        WebSocketEndpoint = new UriBuilder(EventsEndpoint) { Scheme = tls ? Uri.UriSchemeWss : Uri.UriSchemeWs }.Uri;
        GrpcAddress = grpcApp is null ? null : BoundAddress(grpcApp, settings.Address, tls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp);
        Stats = stats;
        Faults = faults;
    }

    /// <summary>
    /// The collector's root, e.g. <c>http://127.0.0.1:41234/</c> (https with <see cref="CollectorOptions.ServerCertificate"/>),
    /// with the port actually bound.
    /// </summary>
    public Uri BaseAddress { get; }

    /// <summary>The REST events endpoint, <see cref="BaseAddress"/> + <c>api/v1/events</c>.</summary>
    public Uri EventsEndpoint { get; }

    /// <summary>The WebSocket endpoint: <see cref="EventsEndpoint"/> as <c>ws://</c> (or <c>wss://</c> with TLS).</summary>
    public Uri WebSocketEndpoint { get; }

    /// <summary>
    /// The gRPC address, e.g. <c>http://127.0.0.1:41235/</c> (https with TLS), or null when
    /// <see cref="CollectorOptions.GrpcPort"/> is null.
    /// </summary>
    public Uri? GrpcAddress { get; }

    /// <summary>What the collector received.</summary>
    public CollectorStats Stats { get; }

    /// <summary>Failures to inject; all off at start.</summary>
    public CollectorFaults Faults { get; }

    /// <summary>Starts a collector and returns once it is listening.</summary>
    /// <param name="options">The options, read once; null for the defaults (127.0.0.1, a free port, no gRPC, events kept).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running collector; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="IOException">An address could not be bound (e.g. the port is in use).</exception>
    public static async Task<RaccoonCollector> StartAsync(CollectorOptions? options = null, CancellationToken cancellationToken = default)
    {
        CollectorSettings settings = CollectorSettings.From(options ?? new CollectorOptions());
        var webSockets = new WebSocketConnectionTable(settings.MaxConnections);
        var stats = new CollectorStats(settings.KeepEvents, webSockets);
        var connections = new ConnectionRegistry(onRefused: () => stats.OnFault(FaultKind.ConnectionDroppedByOutage));
        var outage = new OutageSwitch(connections, onDown: dropped => stats.OnFault(FaultKind.ConnectionDroppedByOutage, dropped));
        var faults = new CollectorFaults(webSockets, outage, stats, settings.TimeProvider);
        var stopping = new CancellationTokenSource();
        var access = new AccessPolicy(settings.BearerToken, settings.RequireIdentity);
        var acceptor = new RequestAcceptor(stats, faults, settings.TimeProvider, stopping.Token);
        var transport = new Transport(outage, connections);

        WebApplication app = BuildRestApp(settings, transport, access, acceptor, stats, webSockets);
        WebApplication? grpcApp = settings.GrpcPort is null ? null : BuildGrpcApp(settings, transport, access, acceptor, stats);
        bool restStarted = false;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            restStarted = true;
            if (grpcApp is not null)
            {
                await grpcApp.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            return new RaccoonCollector(app, grpcApp, stopping, settings, stats, faults);
        }
        catch
        {
            // E.g. the gRPC port is taken: the REST listener already runs, and must not outlive the failed start.
            if (restStarted)
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await app.DisposeAsync().ConfigureAwait(false);
            if (grpcApp is not null)
            {
                await grpcApp.DisposeAsync().ConfigureAwait(false);
            }

            stopping.Dispose();
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

    /// <summary>
    /// Stops Kestrel: held answers (<see cref="CollectorFaults.WithholdResponses"/>) and WebSocket connections are
    /// aborted at once; other in-flight requests get a few seconds, then their connections are aborted.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stats.FailWaiters(new ObjectDisposedException(nameof(RaccoonCollector), "The collector stopped before the events arrived."));
        Faults.StopSchedule();

        // Before Kestrel's graceful stop, which would otherwise wait its whole budget for calls that never end.
        await _stopping.CancelAsync().ConfigureAwait(false);
        Faults.DropWebSocketConnections();

        using (var budget = new CancellationTokenSource(ShutdownTimeout))
        {
            Task rest = _app.StopAsync(budget.Token);
            Task grpc = _grpcApp?.StopAsync(budget.Token) ?? Task.CompletedTask;
            await Task.WhenAll(rest, grpc).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        if (_grpcApp is not null)
        {
            await _grpcApp.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static WebApplication BuildRestApp(
        CollectorSettings settings, Transport transport, AccessPolicy access, RequestAcceptor acceptor, CollectorStats stats, WebSocketConnectionTable webSockets)
    {
        var events = new EventsHandler(settings, access, acceptor, stats);
        var webSocketEvents = new WebSocketEventsHandler(settings, access, acceptor, stats, webSockets);

        WebApplicationBuilder builder = CreateBuilder(transport);
        builder.Services.AddRoutingCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ConfigureLimits(kestrel);

            // HTTP/1.1 only, as Raccoon's REST port, WebSocket upgrades included. Without TLS there is no ALPN, and
            // Kestrel accepts cleartext HTTP/2 (prior knowledge, what gRPC clients use) only on an HTTP/2-only
            // endpoint: gRPC has a listener of its own, as Raccoon has (port 8081).
            kestrel.Listen(settings.Address, settings.Port, listen => Listen(listen, HttpProtocols.Http1, settings, transport));
        });

        WebApplication app = builder.Build();
        app.UseWebSockets(new WebSocketOptions());
        app.MapGet(CollectorDefaults.PingPath, (RequestDelegate)PingHandler.HandleAsync);
        app.MapPost(CollectorDefaults.EventsPath, (RequestDelegate)events.HandleAsync);
        app.MapGet(CollectorDefaults.EventsPath, (RequestDelegate)webSocketEvents.HandleAsync);
        return app;
    }

    private static WebApplication BuildGrpcApp(
        CollectorSettings settings, Transport transport, AccessPolicy access, RequestAcceptor acceptor, CollectorStats stats)
    {
        WebApplicationBuilder builder = CreateBuilder(transport);
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new EventServiceHandler(settings, access, acceptor, stats, transport.Connections));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ConfigureLimits(kestrel);
            kestrel.Listen(settings.Address, settings.GrpcPort!.Value, listen => Listen(listen, HttpProtocols.Http2, settings, transport));
        });

        WebApplication app = builder.Build();
        app.MapGrpcService<EventServiceHandler>();
        return app;
    }

    private static WebApplicationBuilder CreateBuilder(Transport transport)
    {
        // The empty builder reads no configuration files or environment variables and adds no logging
        // providers: nothing on the console, no file watchers, and no ASPNETCORE_URLS surprises.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();

        // Before UseKestrelCore, which adds the socket transport only when no transport is registered: ports that can
        // close and reopen, for CollectorFaults.GoDown.
        builder.Services.AddSingleton<IConnectionListenerFactory>(new SwitchableListenerFactory(transport.Outage));
        builder.WebHost.UseKestrelCore();
        return builder;
    }

    private static void ConfigureLimits(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;

        // Raccoon reads any body size (Go's io.ReadAll); only its Kafka sink limits single events.
        kestrel.Limits.MaxRequestBodySize = null;
    }

    private static void Listen(ListenOptions listen, HttpProtocols protocols, CollectorSettings settings, Transport transport)
    {
        listen.Protocols = protocols;

        // First, so that it sees the TCP connection itself, under TLS.
        listen.Use(next => connection => transport.Connections.OnConnectionAsync(connection, next));
        if (settings.ServerCertificate is { } certificate)
        {
            listen.UseHttps(certificate);
        }
    }

    private static Uri BoundAddress(WebApplication app, IPAddress requested, string scheme)
    {
        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        int port = new Uri(addresses.Addresses.First()).Port;

        // A wildcard address is not something a client can dial: give the loopback of the same family.
        IPAddress dialable = requested.Equals(IPAddress.Any) ? IPAddress.Loopback
            : requested.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : requested;
        return new Uri($"{scheme}://{new IPEndPoint(dialable, port)}/");
    }

    /// <summary>What both listeners share below HTTP: the ports' switch and the open connections.</summary>
    private sealed record Transport(OutageSwitch Outage, ConnectionRegistry Connections);
}
