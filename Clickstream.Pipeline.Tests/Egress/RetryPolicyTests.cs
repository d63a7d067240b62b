using Clickstream.Pipeline.Egress;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Tests.Egress;

public class RetryPolicyTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(30);
    private static readonly SendOutcome ServerError = new(SendResult.ServerError, 503);

    [Test]
    public void Delay_ceiling_doubles_per_failure_in_a_row_up_to_the_cap_and_success_starts_over()
    {
        var policy = new RetryPolicy(Base, Cap, new FixedRandom(0.5));
        var delays = Enumerable.Range(0, 7).Select(_ => policy.OnFailure(ServerError).Delay.TotalSeconds).ToArray();
        Assert.That(delays, Is.EqualTo(new[] { 0.5, 1, 2, 4, 8, 15, 15 }));

        policy.OnSuccess();
        Assert.That(policy.OnFailure(ServerError).Delay, Is.EqualTo(TimeSpan.FromSeconds(0.5)));
    }

    [Test]
    public void Full_jitter_spreads_delays_over_the_whole_window()
    {
        var policy = new RetryPolicy(Base, Cap, new Random(42));
        for (var i = 0; i < 5; i++)
        {
            policy.OnFailure(ServerError);
        }

        // From now on the ceiling is the cap: 200 batches failing together must not retry together.
        var delays = Enumerable.Range(0, 200).Select(_ => policy.OnFailure(ServerError).Delay).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(delays, Is.All.LessThan(Cap));
            Assert.That(delays.Count(d => d < Cap / 2), Is.InRange(60, 140), "about half in each half of the window");
            Assert.That(delays.Distinct().Count(), Is.GreaterThan(190));
        }
    }

    [Test]
    public void Retry_after_longer_than_the_backoff_is_honoured()
    {
        var policy = new RetryPolicy(Base, Cap, new FixedRandom(0.5));
        var decision = policy.OnFailure(new SendOutcome(SendResult.Throttled, 429, RetryAfter: TimeSpan.FromSeconds(7)));
        Assert.That(decision, Is.EqualTo(new RetryDecision(FailureClass.Transient, TimeSpan.FromSeconds(7))));
    }

    [Test]
    public void Retry_after_shorter_than_the_backoff_does_not_shorten_it()
    {
        var policy = new RetryPolicy(TimeSpan.FromSeconds(10), Cap, FixedRandom.Ceiling);
        var decision = policy.OnFailure(new SendOutcome(SendResult.ServerError, 503, RetryAfter: TimeSpan.FromSeconds(1)));
        Assert.That(decision.Delay, Is.GreaterThan(TimeSpan.FromSeconds(9)));
    }

    [Test]
    public void Retry_after_of_days_is_cut_to_the_maximum()
    {
        var policy = new RetryPolicy(Base, Cap, new FixedRandom(0.5));
        var decision = policy.OnFailure(new SendOutcome(SendResult.Throttled, 429, RetryAfter: TimeSpan.FromDays(3)));
        Assert.That(decision.Delay, Is.EqualTo(RetryPolicy.MaxRetryAfter));
    }

    [TestCase("Rejected", "Rejection")]
    [TestCase("ServerError", "Transient")]
    [TestCase("NetworkError", "Transient")]
    [TestCase("Timeout", "Transient")]
    [TestCase("Throttled", "Transient")]
    [TestCase("InvalidResponse", "Transient")]
    [TestCase("AppError", "Transient")]
    [TestCase("Unauthorized", "Configuration")]
    [TestCase("Misconfigured", "Configuration")]
    public void Each_failure_kind_has_its_class(string result, string expected)
    {
        var outcome = new SendOutcome(Enum.Parse<SendResult>(result));
        var policy = new RetryPolicy(Base, Cap, new FixedRandom(0.5));
        Assert.That(policy.OnFailure(outcome).Class.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Configuration_fault_backs_off_like_a_transient_one()
    {
        var policy = new RetryPolicy(Base, Cap, new FixedRandom(0.5));
        var delays = Enumerable.Range(0, 7).Select(_ => policy.OnFailure(new SendOutcome(SendResult.Misconfigured, 404)).Delay.TotalSeconds).ToArray();
        Assert.That(delays, Is.EqualTo(new[] { 0.5, 1, 2, 4, 8, 15, 15 }), "up to the cap, like any failure of the server");
    }

    [Test]
    public void Permanent_rejection_does_not_grow_the_backoff_of_other_batches()
    {
        var policy = new RetryPolicy(Base, Cap, new FixedRandom(0.5));
        policy.OnFailure(new SendOutcome(SendResult.Rejected, 400));
        Assert.That(policy.FailuresInARow, Is.Zero);
    }
}
