using Clickstream.Pipeline.Scheduling;

namespace Clickstream.Pipeline.Tests.Scheduling;

public class JitteredBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(8);

    [TestCase(0, 1)]
    [TestCase(1, 2)]
    [TestCase(2, 4)]
    [TestCase(3, 8)]
    [TestCase(4, 8)]
    [TestCase(1_000_000, 8)]
    public void Ceiling_doubles_per_failure_up_to_the_cap(int failures, int expectedSeconds)
    {
        Assert.That(JitteredBackoff.Ceiling(Base, Cap, failures), Is.EqualTo(TimeSpan.FromSeconds(expectedSeconds)));
    }

    [Test]
    public void NextDelay_with_a_seeded_random_is_the_ceiling_scaled_by_the_same_draw()
    {
        var backoff = new JitteredBackoff(Base, Cap, new Random(1234));
        var draws = new Random(1234);
        int[] ceilings = [1, 2, 4, 8, 8, 8];

        var delays = new TimeSpan[ceilings.Length];
        var expected = new TimeSpan[ceilings.Length];
        for (int i = 0; i < ceilings.Length; i++)
        {
            delays[i] = backoff.NextDelay();
            expected[i] = TimeSpan.FromTicks((long)(TimeSpan.FromSeconds(ceilings[i]).Ticks * draws.NextDouble()));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delays, Is.EqualTo(expected));
            Assert.That(backoff.FailuresInARow, Is.EqualTo(ceilings.Length));
        }
    }

    [Test]
    public void Delays_are_full_jitter_between_zero_and_the_ceiling()
    {
        var backoff = new JitteredBackoff(Base, Cap, new Random(42));
        for (int i = 0; i < 3; i++)
        {
            backoff.NextDelay();
        }

        // From the fourth failure on the ceiling is the cap; 1,000 seeded draws cover its whole range.
        var min = TimeSpan.MaxValue;
        var max = TimeSpan.Zero;
        for (int i = 0; i < 1_000; i++)
        {
            TimeSpan delay = backoff.NextDelay();
            min = delay < min ? delay : min;
            max = delay > max ? delay : max;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(min, Is.GreaterThanOrEqualTo(TimeSpan.Zero).And.LessThan(TimeSpan.FromSeconds(0.5)), "draws reach down near zero");
            Assert.That(max, Is.LessThanOrEqualTo(Cap).And.GreaterThan(TimeSpan.FromSeconds(7.5)), "draws reach up near the cap");
        }
    }

    [Test]
    public void Reset_after_failures_starts_over_from_the_base_delay()
    {
        var backoff = new JitteredBackoff(Base, Cap, new AlwaysTop());
        for (int i = 0; i < 5; i++)
        {
            backoff.NextDelay();
        }

        backoff.Reset();
        TimeSpan afterReset = backoff.NextDelay();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterReset, Is.LessThanOrEqualTo(Base).And.GreaterThan(Base * 0.99));
            Assert.That(backoff.FailuresInARow, Is.EqualTo(1));
        }
    }

    [TestCase(0.0, 0)]
    [TestCase(0.25, 2)]
    [TestCase(1.0, 8)]
    public void Jitter_scales_the_ceiling_by_the_sample(double sample, int expectedSeconds)
    {
        Assert.That(JitteredBackoff.Jitter(Cap, sample), Is.EqualTo(TimeSpan.FromSeconds(expectedSeconds)));
    }

    [Test]
    public void Cap_below_the_base_delay_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new JitteredBackoff(Cap, Base, new Random(1)));
    }

    /// <summary>Draws just below 1: each delay is (almost) its ceiling.</summary>
    private sealed class AlwaysTop : Random
    {
        public override double NextDouble() => 0.999_999;

        protected override double Sample() => 0.999_999;
    }
}
