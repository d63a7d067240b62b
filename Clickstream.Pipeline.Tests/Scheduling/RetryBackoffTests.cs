using Clickstream.Pipeline.Scheduling;

namespace Clickstream.Pipeline.Tests.Scheduling;

public class RetryBackoffTests
{
    [Test]
    public void Delay_doubles_per_failure_in_a_row_up_to_the_cap_and_success_starts_over()
    {
        var backoff = new RetryBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        var delays = Enumerable.Range(0, 6).Select(_ => backoff.OnFailure().TotalSeconds).ToArray();
        Assert.That(delays, Is.EqualTo(new[] { 1d, 2, 4, 8, 10, 10 }));

        backoff.OnSuccess();
        Assert.That(backoff.OnFailure(), Is.EqualTo(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public void Delay_after_very_many_failures_stays_at_the_cap()
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        Assert.That(backoff.DelayAfter(10_000), Is.EqualTo(TimeSpan.FromMinutes(1)));
    }
}
