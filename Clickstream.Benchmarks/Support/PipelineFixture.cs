using Clickstream.Collector;
using Clickstream.Pipeline;

namespace Clickstream.Benchmarks.Support;

/// <summary>
/// A real collector in process (events not kept, so memory stays flat) and pipelines whose LiteDB files live in a
/// temp folder that is deleted on dispose.
/// </summary>
internal sealed class PipelineFixture : IAsyncDisposable
{
    private readonly List<ClickstreamPipeline> _pipelines = [];

    private PipelineFixture(RaccoonCollector collector, DirectoryInfo folder)
    {
        Collector = collector;
        Folder = folder;
    }

    public RaccoonCollector Collector { get; }

    public DirectoryInfo Folder { get; }

    public static async Task<PipelineFixture> StartAsync()
    {
        var collector = await RaccoonCollector.StartAsync(new CollectorOptions { KeepEvents = false, GrpcPort = 0 });
        return new PipelineFixture(collector, Directory.CreateTempSubdirectory("clickstream-bench-"));
    }

    /// <summary>A path for a LiteDB file of its own in the fixture's folder.</summary>
    public string FilePath(string name) => Path.Combine(Folder.FullName, name + ".db");

    /// <summary>A pipeline pointed at the collector, storing in <c>name.db</c>; disposed with the fixture.</summary>
    public ClickstreamPipeline CreatePipeline(string name, Action<ClickstreamOptions>? configure = null, ClickstreamTransport transport = ClickstreamTransport.Http)
    {
        var endpoint = transport switch
        {
            ClickstreamTransport.Grpc => Collector.GrpcAddress!,
            ClickstreamTransport.WebSocket => Collector.WebSocketEndpoint,
            _ => Collector.EventsEndpoint,
        };
        var options = new ClickstreamOptions
        {
            Endpoint = endpoint,
            Transport = transport,
            StoragePath = FilePath(name),
            Headers = { ["X-User-ID"] = "bench-" + name },
        };
        configure?.Invoke(options);
        var pipeline = ClickstreamPipeline.Create(options);
        _pipelines.Add(pipeline);
        return pipeline;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pipeline in _pipelines)
        {
            await pipeline.DisposeAsync();
        }

        await Collector.DisposeAsync();
        Folder.Delete(recursive: true);
    }
}
