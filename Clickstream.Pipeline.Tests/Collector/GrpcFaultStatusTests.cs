using Clickstream.Collector.Grpc;
using Grpc.Core;

namespace Clickstream.Pipeline.Tests.Collector;

public class GrpcFaultStatusTests
{
    [TestCase(400, StatusCode.InvalidArgument)]
    [TestCase(401, StatusCode.Unauthenticated)]
    [TestCase(403, StatusCode.PermissionDenied)]
    [TestCase(404, StatusCode.Unimplemented)]
    [TestCase(408, StatusCode.DeadlineExceeded)]
    [TestCase(409, StatusCode.Aborted)]
    [TestCase(413, StatusCode.ResourceExhausted)]
    [TestCase(422, StatusCode.InvalidArgument)]
    [TestCase(429, StatusCode.ResourceExhausted)]
    [TestCase(501, StatusCode.Unimplemented)]
    [TestCase(502, StatusCode.Unavailable)]
    [TestCase(503, StatusCode.Unavailable)]
    [TestCase(504, StatusCode.Unavailable)]
    [TestCase(507, StatusCode.Internal)]
    public void GrpcFaultStatus_maps_http_status_to_grpc_status(int httpStatus, StatusCode expected)
    {
        Assert.That(GrpcFaultStatus.For(httpStatus), Is.EqualTo(expected));
    }

    [Test]
    public void GrpcFaultStatus_500_is_a_response_not_a_status()
    {
        Assert.That(GrpcFaultStatus.For(500), Is.Null);
    }
}
