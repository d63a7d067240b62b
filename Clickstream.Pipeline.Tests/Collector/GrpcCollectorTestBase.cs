using Clickstream.Raccoon;
using Grpc.Net.Client;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>
/// A <see cref="CollectorTestBase"/> whose collector listens for gRPC (the fixture's options set GrpcPort), with a
/// channel to it and a client opened after it starts and closed before it is disposed.
/// </summary>
public abstract class GrpcCollectorTestBase : CollectorTestBase
{
    private GrpcChannel _channel = null!;

    /// <summary>A gRPC client of the current test's collector.</summary>
    private protected EventService.EventServiceClient _grpc = null!;

    [SetUp]
    public void OpenChannel()
    {
        _channel = Channel(_collector.GrpcAddress!);
        _grpc = new EventService.EventServiceClient(_channel);
    }

    [TearDown]
    public void CloseChannel() => _channel.Dispose();
}
