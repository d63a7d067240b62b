namespace Clickstream.Pipeline.Tests.Support;

/// <summary>Store tests: each test gets a fresh <see cref="StoreHarness"/> (a temp folder, a fake clock), disposed after it.</summary>
public abstract class StoreHarnessTestBase
{
    private StoreHarness? _harness;

    internal StoreHarness Harness => _harness ?? throw new InvalidOperationException("The harness is created in SetUp.");

    [SetUp]
    public void CreateHarness() => _harness = new StoreHarness();

    [TearDown]
    public void DisposeHarness() => _harness?.Dispose();
}
