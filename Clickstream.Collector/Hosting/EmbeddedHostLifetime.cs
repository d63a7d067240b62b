using Microsoft.Extensions.Hosting;

namespace Clickstream.Collector.Hosting;

/// <summary>
/// A host lifetime that does nothing: the collector runs inside a test, a demo or a benchmark, so it must not
/// take over Ctrl+C or SIGTERM the way the default console lifetime does. Its owner stops it by disposing it.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
