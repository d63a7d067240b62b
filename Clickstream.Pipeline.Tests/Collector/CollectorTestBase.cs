using Clickstream.Collector;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>
/// A <see cref="RaccoonCollector"/> started before each test on the fixture's <see cref="CreateOptions"/> and
/// disposed after it, and an <see cref="HttpClient"/> made on first use and shared by the fixture's tests.
/// A fixture's own [SetUp] runs after the collector has started, its own [TearDown] before it is disposed.
/// </summary>
public abstract class CollectorTestBase
{
    private HttpClient? _http;

    /// <summary>The collector of the current test.</summary>
    protected RaccoonCollector _collector = null!;

    /// <summary>A client for the collector's HTTP endpoints, one per fixture.</summary>
    protected HttpClient Http => _http ??= new HttpClient();

    /// <summary>The fake clock of the current test's collector, when it runs on one (<see cref="OnSignalingClock"/>).</summary>
    private protected SignalingTimeProvider _time = null!;

    /// <summary>The options each test's collector starts on; called once per test.</summary>
    protected abstract CollectorOptions CreateOptions();

    /// <summary><paramref name="options"/> on a fresh <see cref="SignalingTimeProvider"/> at <see cref="CollectorTestKit.Now"/>, kept in <see cref="_time"/>.</summary>
    private protected CollectorOptions OnSignalingClock(CollectorOptions options)
    {
        _time = new SignalingTimeProvider(CollectorTestKit.Now);
        options.TimeProvider = _time;
        return options;
    }

    [SetUp]
    public async Task StartCollector() => _collector = await RaccoonCollector.StartAsync(CreateOptions());

    [TearDown]
    public async Task StopCollector() => await _collector.DisposeAsync();

    [OneTimeTearDown]
    public void DisposeClient() => _http?.Dispose();
}
