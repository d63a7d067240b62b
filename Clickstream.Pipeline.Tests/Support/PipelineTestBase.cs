namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// End-to-end tests: each test gets a fresh <see cref="PipelineHarness"/> (a real collector on loopback, a temp
/// folder, a fake clock), disposed after it.
/// </summary>
public abstract class PipelineTestBase
{
    private PipelineHarness? _harness;

    internal PipelineHarness Harness => _harness ?? throw new InvalidOperationException("The harness starts in SetUp.");

    [SetUp]
    public async Task StartHarnessAsync() => _harness = await PipelineHarness.StartAsync();

    [TearDown]
    public async Task StopHarnessAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }
}
