using Clickstream.Collector;
using Clickstream.Collector.Faults;

namespace Clickstream.Pipeline.Tests.Collector;

public class RandomFaultsTests
{
    [Test]
    public void Draw_with_a_seed_follows_the_running_total_of_the_rates_over_Random_seed()
    {
        const int Seed = 2024;
        RandomFaults faults = RandomFaults.Create([new FaultRate(Fault.ConnectionReset, 0.1), new FaultRate(Fault.Status(503), 0.2)], Seed)!;

        var random = new Random(Seed);
        var expected = new List<Fault?>();
        var actual = new List<Fault?>();
        for (int i = 0; i < 1000; i++)
        {
            double draw = random.NextDouble();
            expected.Add(draw < 0.1 ? Fault.ConnectionReset : draw < 0.3 ? Fault.Status(503) : null);
            actual.Add(faults.Draw());
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(actual, Is.EqualTo(expected));
            Assert.That(actual.Count(f => f is null), Is.InRange(650, 750), "about 70 % without a fault");
        }
    }

    [Test]
    public void Draw_with_rates_adding_up_to_1_always_gives_a_fault()
    {
        RandomFaults faults = RandomFaults.Create([new FaultRate(Fault.SoftError, 0.5), new FaultRate(Fault.MalformedResponse, 0.5)], seed: 1)!;

        Assert.That(Enumerable.Range(0, 200).Select(_ => faults.Draw()), Has.None.Null);
    }

    [Test]
    public void Create_without_a_rate_above_zero_is_null()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(RandomFaults.Create([], seed: null), Is.Null);
            Assert.That(RandomFaults.Create([new FaultRate(Fault.SoftError, 0)], seed: null), Is.Null);
        }
    }

    [Test]
    public void Create_with_rates_adding_up_to_a_hair_over_1_accepts_them()
    {
        Assert.That(
            RandomFaults.Create([new FaultRate(Fault.SoftError, 0.1), new FaultRate(Fault.SoftError, 0.2), new FaultRate(Fault.SoftError, 0.7)], seed: null),
            Is.Not.Null);
    }

    [Test]
    public void Create_with_a_bad_rate_or_no_fault_throws()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => RandomFaults.Create([new FaultRate(Fault.SoftError, -0.5)], seed: null), Throws.ArgumentException);
            Assert.That(() => RandomFaults.Create([new FaultRate(Fault.SoftError, 0.7), new FaultRate(Fault.SoftError, 0.4)], seed: null), Throws.ArgumentException);
            Assert.That(() => RandomFaults.Create([new FaultRate(null!, 0.5)], seed: null), Throws.ArgumentException);
        }
    }
}
