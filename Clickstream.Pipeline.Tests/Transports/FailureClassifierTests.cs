using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Transports;
using Grpc.Core;

namespace Clickstream.Pipeline.Tests.Transports;

/// <summary>The one failure classification (docs/ARCHITECTURE.md, "Failures"), row by row.</summary>
public class FailureClassifierTests
{
    [TestCase(400, "Rejected", "Rejection")]
    [TestCase(413, "Rejected", "Rejection")]
    [TestCase(422, "Rejected", "Rejection")]
    [TestCase(401, "Unauthorized", "Configuration")]
    [TestCase(403, "Unauthorized", "Configuration")]
    [TestCase(404, "Misconfigured", "Configuration")]
    [TestCase(405, "Misconfigured", "Configuration")]
    [TestCase(407, "Misconfigured", "Configuration")]
    [TestCase(415, "Misconfigured", "Configuration")]
    [TestCase(410, "Misconfigured", "Configuration")]
    [TestCase(408, "Timeout", "Transient")]
    [TestCase(429, "Throttled", "Transient")]
    [TestCase(500, "ServerError", "Transient")]
    [TestCase(502, "ServerError", "Transient")]
    [TestCase(503, "ServerError", "Transient")]
    [TestCase(302, "InvalidResponse", "Transient")]
    public void Http_status_has_its_kind_and_class(int status, string kind, string failureClass)
    {
        var result = FailureClassifier.FromHttpStatus(status);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ToString(), Is.EqualTo(kind));
            Assert.That(FailureClassifier.ClassOf(result).ToString(), Is.EqualTo(failureClass));
        }
    }

    [TestCase(Code.BadRequest, "Rejected")]
    [TestCase(Code.InternalError, "ServerError")]
    [TestCase(Code.MaxConnectionLimitReached, "NetworkError")]
    [TestCase(Code.MaxUserLimitReached, "NetworkError")]
    [TestCase(Code.Unspecified, "ServerError")]
    public void Raccoon_code_has_its_kind(object code, string kind) =>
        Assert.That(FailureClassifier.FromRaccoonCode((Code)code).ToString(), Is.EqualTo(kind));

    [TestCase(StatusCode.Unavailable, "NetworkError")]
    [TestCase(StatusCode.DeadlineExceeded, "Timeout")]
    [TestCase(StatusCode.ResourceExhausted, "Throttled")]
    [TestCase(StatusCode.Unauthenticated, "Unauthorized")]
    [TestCase(StatusCode.PermissionDenied, "Unauthorized")]
    [TestCase(StatusCode.Unimplemented, "Misconfigured")]
    [TestCase(StatusCode.NotFound, "Misconfigured")]
    [TestCase(StatusCode.InvalidArgument, "Rejected")]
    [TestCase(StatusCode.Internal, "ServerError")]
    [TestCase(StatusCode.Unknown, "ServerError")]
    public void Grpc_status_has_its_kind(StatusCode code, string kind) =>
        Assert.That(FailureClassifier.FromGrpc(code).ToString(), Is.EqualTo(kind));

    private static IEnumerable<TestCaseData> Exceptions()
    {
        yield return new TestCaseData(new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused)), "NetworkError").SetArgDisplayNames("connection refused");
        yield return new TestCaseData(new HttpRequestException(HttpRequestError.NameResolutionError, "no such host", new SocketException((int)SocketError.HostNotFound)), "Misconfigured").SetArgDisplayNames("DNS: no such host");
        yield return new TestCaseData(new HttpRequestException(HttpRequestError.NameResolutionError, "resolver down", new SocketException((int)SocketError.TryAgain)), "NetworkError").SetArgDisplayNames("DNS: try again (offline)");
        yield return new TestCaseData(new HttpRequestException(HttpRequestError.SecureConnectionError, "TLS", new AuthenticationException("bad certificate")), "Misconfigured").SetArgDisplayNames("TLS");
        yield return new TestCaseData(new HttpRequestException(HttpRequestError.ProxyTunnelError, "proxy said no"), "Misconfigured").SetArgDisplayNames("proxy tunnel");
        yield return new TestCaseData(new HttpRequestException("proxy auth", null, HttpStatusCode.ProxyAuthenticationRequired), "Misconfigured").SetArgDisplayNames("407 as an exception");
        yield return new TestCaseData(new AuthenticationException("bad certificate"), "Misconfigured").SetArgDisplayNames("TLS alone");
        yield return new TestCaseData(new IOException("reset"), "NetworkError").SetArgDisplayNames("IO");
        yield return new TestCaseData(new WebSocketException("Unable to connect", new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused))), "NetworkError").SetArgDisplayNames("WebSocket connect refused");
        yield return new TestCaseData(new WebSocketException("Unable to connect", new HttpRequestException(HttpRequestError.SecureConnectionError, "TLS", new AuthenticationException("bad certificate"))), "Misconfigured").SetArgDisplayNames("WebSocket TLS");
        yield return new TestCaseData(new WebSocketException("closed"), "NetworkError").SetArgDisplayNames("WebSocket alone");
        yield return new TestCaseData(new RpcException(new Grpc.Core.Status(StatusCode.Unimplemented, "no such service")), "Misconfigured").SetArgDisplayNames("gRPC");
        yield return new TestCaseData(new OperationCanceledException("a handler gave up"), "Timeout").SetArgDisplayNames("not the caller's cancellation");
        yield return new TestCaseData(new TimeoutException("a timeout policy"), "Timeout").SetArgDisplayNames("timeout policy");
        yield return new TestCaseData(new InvalidOperationException("token service down"), "AppError").SetArgDisplayNames("the app's code");
    }

    [TestCaseSource(nameof(Exceptions))]
    public void Exception_has_its_kind(Exception exception, string kind)
    {
        var outcome = FailureClassifier.FromException(exception);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Result.ToString(), Is.EqualTo(kind));
            Assert.That(outcome.Detail, Does.Contain(exception is RpcException rpc ? rpc.Status.Detail : exception.Message));
        }
    }
}
