using Clickstream.Collector.Requests;

namespace Clickstream.Pipeline.Tests.Collector;

public class AccessPolicyTests
{
    private static readonly ClientIdentity Named = new("user-1", "--default--");
    private static readonly ClientIdentity Anonymous = new(null, "--default--");

    [Test]
    public void Check_without_rules_allows_anyone()
    {
        var policy = new AccessPolicy(bearerToken: null, requireIdentity: false);

        Assert.That(policy.Check(authorization: null, Anonymous), Is.EqualTo(AccessDecision.Allowed));
    }

    [TestCase("Bearer s3cret", TestName = "Check_bearer_token_allows_the_token")]
    [TestCase("bearer s3cret", TestName = "Check_bearer_scheme_is_case_insensitive")]
    [TestCase("Bearer   s3cret", TestName = "Check_bearer_token_after_several_spaces_is_allowed")]
    public void Check_bearer_token_allows(string authorization)
    {
        var policy = new AccessPolicy("s3cret", requireIdentity: false);

        Assert.That(policy.Check(authorization, Anonymous), Is.EqualTo(AccessDecision.Allowed));
    }

    [TestCase(null, TestName = "Check_bearer_token_missing_is_refused")]
    [TestCase("Bearer wrong", TestName = "Check_bearer_token_wrong_is_refused")]
    [TestCase("Bearer s3cret2", TestName = "Check_bearer_token_longer_is_refused")]
    [TestCase("Bearer S3CRET", TestName = "Check_bearer_token_is_case_sensitive")]
    [TestCase("Basic s3cret", TestName = "Check_other_scheme_is_refused")]
    [TestCase("Bearers3cret", TestName = "Check_scheme_without_space_is_refused")]
    [TestCase("Bearer ", TestName = "Check_empty_token_is_refused")]
    public void Check_bearer_token_refuses(string? authorization)
    {
        var policy = new AccessPolicy("s3cret", requireIdentity: false);

        Assert.That(policy.Check(authorization, Named), Is.EqualTo(AccessDecision.BadToken));
    }

    [TestCase(null, TestName = "Check_require_identity_without_id_is_refused")]
    [TestCase("", TestName = "Check_require_identity_with_an_empty_id_is_refused")]
    public void Check_require_identity_refuses(string? userId)
    {
        var policy = new AccessPolicy(bearerToken: null, requireIdentity: true);

        Assert.That(policy.Check(authorization: null, new ClientIdentity(userId, "--default--")), Is.EqualTo(AccessDecision.MissingIdentity));
    }

    [Test]
    public void Check_require_identity_with_an_id_is_allowed()
    {
        var policy = new AccessPolicy(bearerToken: null, requireIdentity: true);

        Assert.That(policy.Check(authorization: null, Named), Is.EqualTo(AccessDecision.Allowed));
    }

    [Test]
    public void Check_both_rules_refuse_the_token_first()
    {
        var policy = new AccessPolicy("s3cret", requireIdentity: true);

        Assert.That(policy.Check(authorization: null, Anonymous), Is.EqualTo(AccessDecision.BadToken));
    }
}
