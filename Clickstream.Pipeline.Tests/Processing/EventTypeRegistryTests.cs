using System.Collections.Frozen;
using Clickstream.Pipeline.Processing;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Processing;

public class EventTypeRegistryTests
{
    [Test]
    public void Type_is_the_last_segment_of_the_full_name_lower_cased()
    {
        Assert.That(PageView.Descriptor.FullName, Is.EqualTo("clickstream.samples.v1.PageView"));
        Assert.That(EventTypeRegistry.TypeName(PageView.Descriptor, group: null), Is.EqualTo("pageview"));
    }

    [Test]
    public void Type_is_prefixed_with_the_group()
    {
        Assert.That(EventTypeRegistry.TypeName(AddToCart.Descriptor, group: "shop"), Is.EqualTo("shop-addtocart"));
    }

    [TestCase("Click")]
    [TestCase("clickstream.samples.v1.Click")]
    [TestCase("click")]
    [TestCase("shop-click")]
    [TestCase("CLICK")]
    public void Instant_type_matches_name_full_name_or_raccoon_type(string entry)
    {
        var registry = new EventTypeRegistry(new[] { entry }.ToFrozenSet(StringComparer.OrdinalIgnoreCase), "shop");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(registry.Get(Click.Descriptor).Durable, Is.False);
            Assert.That(registry.Get(PageView.Descriptor).Durable, Is.True);
            Assert.That(registry.Get(Click.Descriptor).Type, Is.EqualTo("shop-click"));
        }
    }

    [Test]
    public void Same_descriptor_gives_the_same_info_instance()
    {
        var registry = new EventTypeRegistry(FrozenSet<string>.Empty, null);
        var first = registry.Get(PageView.Descriptor);
        Assert.That(registry.Get(PageView.Descriptor), Is.SameAs(first));
    }
}
