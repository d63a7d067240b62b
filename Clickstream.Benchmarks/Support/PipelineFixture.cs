using Clickstream.Pipeline;

namespace Clickstream.Benchmarks.Support;

/// <summary>
/// The counting stub in its own process (<see cref="StubProcess"/>: its work is not charged to the pipeline measured)
/// and pipelines whose LiteDB files live in a temp folder that is deleted on dispose.
/// </summary>
internal sealed class PipelineFixture : IAsyncDisposable
{
    private readonly List<ClickstreamPipeline> _pipelines = [];

    private PipelineFixture(StubProcess stub, DirectoryInfo folder)
    {
        Stub = stub;
        Folder = folder;
    }

    public StubProcess Stub { get; }

    public DirectoryInfo Folder { get; }

    public static async Task<PipelineFixture> StartAsync()
    {
        var stub = await StubProcess.StartAsync();
        return new PipelineFixture(stub, Directory.CreateTempSubdirectory("clickstream-bench-"));
    }

    /// <summary>A path for a LiteDB file of its own in the fixture's folder.</summary>
    public string FilePath(string name) => Path.Combine(Folder.FullName, name + ".db");

    /// <summary>A pipeline pointed at the stub, storing in <c>name.db</c>; disposed with the fixture.</summary>
    public ClickstreamPipeline CreatePipeline(string name, Action<ClickstreamOptions>? configure = null, ClickstreamTransport transport = ClickstreamTransport.Http)
    {
        var options = new ClickstreamOptions
        {
            Endpoint = Stub.Addresses.EndpointFor(transport),
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

        await Stub.DisposeAsync();
        Folder.Delete(recursive: true);
    }
}
