using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Tests.Transports;

public class AckClassificationTests
{
    private static readonly Guid Request = Guid.NewGuid();

    private static SendEventResponse Response(Status status, Code code, string? reqGuid)
    {
        var response = new SendEventResponse { Status = status, Code = code };
        if (reqGuid is not null)
        {
            response.Data["req_guid"] = reqGuid;
        }

        return response;
    }

    [Test]
    public void Success_ok_with_the_requests_guid_is_an_ack()
    {
        Assert.That(RaccoonAck.Classify(200, Response(Status.Success, Code.Ok, Request.ToString()), null, Request).IsAcknowledged, Is.True);
    }

    [Test]
    public void Success_ok_with_another_valid_guid_is_not_an_ack()
    {
        var outcome = RaccoonAck.Classify(200, Response(Status.Success, Code.Ok, Guid.NewGuid().ToString()), null, Request);
        Assert.That(outcome.Result, Is.EqualTo(SendResult.InvalidResponse));
    }

    [Test]
    public void Success_ok_without_a_guid_is_not_an_ack()
    {
        Assert.That(RaccoonAck.Classify(200, Response(Status.Success, Code.Ok, null), null, Request).Result, Is.EqualTo(SendResult.InvalidResponse));
    }

    // Enums as numbers and names: the wire types are internal, and a public test method cannot take them.
    [TestCase(200, 2, 3, "ServerError")]
    [TestCase(200, 1, 2, "Rejected")]
    [TestCase(500, 2, 3, "ServerError")]
    [TestCase(503, 0, 0, "ServerError")]
    [TestCase(400, 2, 2, "Rejected")]
    [TestCase(429, 2, 0, "Throttled")]
    [TestCase(401, 2, 2, "Unauthorized")]
    [TestCase(403, 0, 0, "Unauthorized")]
    [TestCase(408, 0, 0, "Timeout")]
    [TestCase(413, 0, 0, "Rejected")]
    [TestCase(302, 1, 1, "InvalidResponse")]
    [TestCase(200, 0, 0, "ServerError")]
    public void Anything_else_is_a_failure_of_its_kind(int status, int responseStatus, int code, string expected)
    {
        var outcome = RaccoonAck.Classify(status, Response((Status)responseStatus, (Code)code, Request.ToString()), null, Request);
        Assert.That(outcome.Result.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Unparsable_body_is_an_invalid_response()
    {
        Assert.That(RaccoonAck.Classify(200, null, "bad body", Request).Result, Is.EqualTo(SendResult.InvalidResponse));
    }
}
