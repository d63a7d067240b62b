using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Samples;

/// <summary>Makes realistic sample events (about 200 bytes serialized) for the demo, tests and benchmarks.</summary>
public static class SampleEvents
{
    private static readonly string[] Pages =
    [
        "https://shop.example.com/",
        "https://shop.example.com/catalog/shoes?sort=popular&page=2",
        "https://shop.example.com/product/sku-48213-trail-runner",
        "https://shop.example.com/cart",
    ];

    /// <summary>A page view of about 200 bytes.</summary>
    public static PageView PageView(int n) => new()
    {
        EventGuid = DeterministicGuid(n),
        EventTime = new Timestamp { Seconds = 1_790_000_000 + n, Nanos = n % 1000 * 1000 },
        SessionId = "s-" + (n / 50).ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        UserId = "u-" + (n % 9973).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
        PageUrl = Pages[n % Pages.Length],
        Referrer = "https://search.example.org/?q=running+shoes",
        UserAgent = "Mozilla/5.0 (X11; Linux x86_64)",
        ViewportWidth = 1280,
        ViewportHeight = 720,
    };

    /// <summary>A click of about 150 bytes.</summary>
    public static Click Click(int n) => new()
    {
        EventGuid = DeterministicGuid(n),
        EventTime = new Timestamp { Seconds = 1_790_000_000 + n },
        SessionId = "s-" + (n / 50).ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        UserId = "u-" + (n % 9973).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
        ElementId = "btn-add-to-cart",
        PageUrl = Pages[n % Pages.Length],
        X = n % 1280,
        Y = n % 720,
    };

    /// <summary>An add-to-cart event.</summary>
    public static AddToCart AddToCart(int n) => new()
    {
        EventGuid = DeterministicGuid(n),
        EventTime = new Timestamp { Seconds = 1_790_000_000 + n },
        SessionId = "s-" + (n / 50).ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        UserId = "u-" + (n % 9973).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
        ProductId = "sku-" + (n % 50000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Quantity = 1 + (n % 3),
        PriceMicros = 49_990_000,
        Currency = "EUR",
    };

    /// <summary>A purchase event.</summary>
    public static Purchase Purchase(int n) => new()
    {
        EventGuid = DeterministicGuid(n),
        EventTime = new Timestamp { Seconds = 1_790_000_000 + n },
        SessionId = "s-" + (n / 50).ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        UserId = "u-" + (n % 9973).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
        OrderId = "o-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TotalMicros = 149_970_000,
        Currency = "EUR",
        ProductIds = { "sku-1", "sku-2", "sku-3" },
    };

    /// <summary>A mix: mostly page views and clicks, some add-to-cart and purchases.</summary>
    public static IMessage Mixed(int n) => (n % 10) switch
    {
        < 5 => PageView(n),
        < 8 => Click(n),
        8 => AddToCart(n),
        _ => Purchase(n),
    };

    private static string DeterministicGuid(int n)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, n);
        BitConverter.TryWriteBytes(bytes[8..], ~n);
        return new Guid(bytes).ToString();
    }
}
