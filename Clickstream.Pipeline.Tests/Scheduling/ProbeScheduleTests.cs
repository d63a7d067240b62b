using Clickstream.Pipeline.Scheduling;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Scheduling;

public class ProbeScheduleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(8);

    [Test]
    public void NextDelay_ramps_from_an_eighth_of_the_interval_to_the_interval_and_stays_there()
    {
        var atCeiling = new ProbeSchedule(Interval, new FixedRandom(1.0));
        var atHalf = new ProbeSchedule(Interval, new FixedRandom(0.0));
        int[] ceilings = [1, 2, 4, 8, 8, 8, 8];

        using (Assert.EnterMultipleScope())
        {
            foreach (var ceiling in ceilings)
            {
                Assert.That(atCeiling.NextDelay(), Is.EqualTo(TimeSpan.FromSeconds(ceiling)));
                Assert.That(atHalf.NextDelay(), Is.EqualTo(TimeSpan.FromSeconds(ceiling / 2.0)));
            }

            Assert.That(atCeiling.Probes, Is.EqualTo(ceilings.Length));
        }
    }

    [Test]
    public void Every_delay_is_between_half_the_interval_and_the_interval_once_ramped()
    {
        var schedule = new ProbeSchedule(Interval, new Random(42));
        for (var i = 0; i < 3; i++)
        {
            schedule.NextDelay();
        }

        var min = TimeSpan.MaxValue;
        var max = TimeSpan.Zero;
        for (var i = 0; i < 1_000; i++)
        {
            var delay = schedule.NextDelay();
            min = delay < min ? delay : min;
            max = delay > max ? delay : max;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(min, Is.GreaterThanOrEqualTo(Interval / 2), "never faster than twice the probe rate");
            Assert.That(max, Is.LessThanOrEqualTo(Interval), "never a longer gap than the interval, however long the outage");
            Assert.That(min, Is.LessThan(Interval * 0.55), "the draws spread over the whole window");
            Assert.That(max, Is.GreaterThan(Interval * 0.95));
        }
    }

    [Test]
    public void Reset_starts_the_ramp_again()
    {
        var schedule = new ProbeSchedule(Interval, new FixedRandom(1.0));
        for (var i = 0; i < 10; i++)
        {
            schedule.NextDelay();
        }

        schedule.Reset();
        Assert.That(schedule.NextDelay(), Is.EqualTo(Interval / ProbeSchedule.FirstFraction));
    }

    [Test]
    public void Constructor_refuses_a_zero_interval()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ProbeSchedule(TimeSpan.Zero, Random.Shared));
    }
}
