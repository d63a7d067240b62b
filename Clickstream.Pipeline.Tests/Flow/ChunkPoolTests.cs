using Clickstream.Pipeline.Flow;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Flow;

public class ChunkPoolTests
{
    [Test]
    public void An_array_given_back_is_rented_again_cleared()
    {
        var pool = new ChunkPool(4);
        var array = pool.Rent();
        array[0] = Envelopes.Make(1);
        pool.Return(array);

        var again = pool.Rent();
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.SameAs(array));
            Assert.That(again, Has.All.Null);
            Assert.That(pool.Rent(), Is.Not.SameAs(array), "an empty pool makes a new array");
        });
    }

    [Test]
    public void An_array_of_another_length_is_not_kept()
    {
        var pool = new ChunkPool(4);
        pool.Return(new EventEnvelope[3]);
        Assert.That(pool.Count, Is.Zero);
    }

    [Test]
    public void An_array_given_back_twice_is_kept_once_and_never_handed_to_two_renters()
    {
        var pool = new ChunkPool(4);
        var array = pool.Rent();
        pool.Return(array);
        pool.Return(array);

        Assert.That(pool.Count, Is.EqualTo(1));
        var first = pool.Rent();
        var second = pool.Rent();
        Assert.That(second, Is.Not.SameAs(first));
    }

    [Test]
    public void The_pool_keeps_a_bounded_number_of_arrays()
    {
        var pool = new ChunkPool(2);
        for (var i = 0; i < 100; i++)
        {
            pool.Return(new EventEnvelope[2]);
        }

        Assert.That(pool.Count, Is.LessThanOrEqualTo(16));
    }
}
