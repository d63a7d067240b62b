using Clickstream.Collector;

namespace Clickstream.Pipeline.Tests.Collector;

public class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 10, 21, 7, 28, 0, TimeSpan.Zero);

    [Test]
    public void Seconds_is_delta_seconds()
    {
        RetryAfter retryAfter = RetryAfter.Seconds(5);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(retryAfter.HeaderValue(Now), Is.EqualTo("5"));
            Assert.That(retryAfter.DelayFrom(Now), Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(retryAfter.IsHttpDate, Is.False);
            Assert.That(retryAfter.ToString(), Is.EqualTo("5"));
        }
    }

    [Test]
    public void At_is_a_fixed_imf_fixdate_in_gmt_without_the_fraction_of_a_second()
    {
        RetryAfter retryAfter = RetryAfter.At(new DateTimeOffset(2026, 10, 21, 9, 28, 30, 750, TimeSpan.FromHours(2)));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(retryAfter.HeaderValue(Now), Is.EqualTo("Wed, 21 Oct 2026 07:28:30 GMT"));
            Assert.That(retryAfter.HeaderValue(Now.AddHours(1)), Is.EqualTo("Wed, 21 Oct 2026 07:28:30 GMT"), "fixed");
            Assert.That(retryAfter.DelayFrom(Now), Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(retryAfter.DelayFrom(Now.AddMinutes(1)), Is.EqualTo(TimeSpan.Zero), "a date past is no wait");
            Assert.That(retryAfter.IsHttpDate, Is.True);
        }
    }

    [Test]
    public void DateIn_is_an_http_date_from_the_answer_time_rounded_up_to_a_second()
    {
        RetryAfter retryAfter = RetryAfter.DateIn(TimeSpan.FromSeconds(1.5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(retryAfter.HeaderValue(Now), Is.EqualTo("Wed, 21 Oct 2026 07:28:02 GMT"));
            Assert.That(retryAfter.HeaderValue(Now.AddSeconds(10)), Is.EqualTo("Wed, 21 Oct 2026 07:28:12 GMT"));
            Assert.That(retryAfter.DelayFrom(Now), Is.EqualTo(TimeSpan.FromSeconds(2)));
        }
    }

    [Test]
    public void TryParse_reads_both_forms()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(RetryAfter.TryParse("5", out RetryAfter? seconds), Is.True);
            Assert.That(seconds, Is.EqualTo(RetryAfter.Seconds(5)));
            Assert.That(RetryAfter.TryParse("Wed, 21 Oct 2026 07:28:00 GMT", out RetryAfter? date), Is.True);
            Assert.That(date, Is.EqualTo(RetryAfter.At(Now)));
        }
    }

    [TestCase("")]
    [TestCase("-1")]
    [TestCase("5s")]
    [TestCase("1.5")]
    [TestCase("tomorrow")]
    [TestCase("2026-10-21T07:28:00Z")]
    public void TryParse_rejects_anything_else(string text)
    {
        Assert.That(RetryAfter.TryParse(text, out _), Is.False);
    }

    [Test]
    public void Negative_delays_throw()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => RetryAfter.Seconds(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => RetryAfter.DateIn(TimeSpan.FromSeconds(-1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
        }
    }
}
