using Clickstream.Pipeline.Storage;

namespace Clickstream.Pipeline.Tests.Storage;

/// <summary>The storage options (defaults, validation) and the store's rules as plain arithmetic.</summary>
public class StoragePolicyTests
{
    [Test]
    public void Storage_options_default_to_512_MiB_no_count_bound_7_days_and_no_fsync()
    {
        var options = new ClickstreamOptions();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.MaxStorageBytes, Is.EqualTo(512L * 1024 * 1024));
            Assert.That(options.MaxStoredEvents, Is.EqualTo(long.MaxValue));
            Assert.That(options.EventTimeToLive, Is.EqualTo(TimeSpan.FromDays(7)));
            Assert.That(options.FlushCommitsToDisk, Is.False);
        }
    }

    [Test]
    public void Invalid_storage_options_are_all_reported_in_one_exception()
    {
        var options = new ClickstreamOptions
        {
            Endpoint = new Uri("http://127.0.0.1:1/api/v1/events"),
            MaxStoredEvents = 0,
            MaxStorageBytes = 1_000_000,
            MaxEventBytes = 600_000,
            EventTimeToLive = TimeSpan.FromSeconds(-1),
        };

        var ex = Assert.Throws<ArgumentException>(() => PipelineSettings.Create(options));
        Assert.That(ex!.Message, Does.Contain("MaxStoredEvents").And.Contain("MaxStorageBytes").And.Contain("twice MaxEventBytes").And.Contain("EventTimeToLive"));
    }

    [Test]
    public void Infinite_EventTimeToLive_is_valid_and_means_no_expiry()
    {
        var settings = PipelineSettings.Create(new ClickstreamOptions
        {
            Endpoint = new Uri("http://127.0.0.1:1/api/v1/events"),
            EventTimeToLive = Timeout.InfiniteTimeSpan,
        });
        var policy = new StorePolicy(EventStoreOptions.From(settings));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(policy.HasTimeToLive, Is.False);
            Assert.That(policy.ExpiredBefore(DateTimeOffset.MaxValue), Is.EqualTo(long.MinValue));
            Assert.That(policy.ExpiryCheckInterval, Is.EqualTo(Timeout.InfiniteTimeSpan));
        }
    }

    [Test]
    public void Memory_holds_at_most_half_of_each_bound_so_that_eviction_always_finds_events_on_disk()
    {
        var policy = new StorePolicy(new EventStoreOptions { Path = "x", MemoryBudget = 20_000, MaxStoredEvents = 1000, MaxStorageBytes = 64_000 });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(policy.MemoryEvents, Is.EqualTo(500));
            Assert.That(policy.MemoryBytes, Is.EqualTo(32_000));
            Assert.That(policy.FitsInMemory(0, 0, 1_000_000), Is.True, "one event always fits");
            Assert.That(policy.FitsInMemory(1, 31_000, 1001), Is.False);
            Assert.That(policy.FitsInMemory(499, 0, 1), Is.True);
            Assert.That(policy.FitsInMemory(500, 0, 1), Is.False);
            Assert.That(new StorePolicy(new EventStoreOptions { Path = "x", MemoryBudget = 20_000 }).MemoryEvents, Is.EqualTo(20_000), "without a count bound, MaxInMemoryStoredEvents");
        }
    }

    [Test]
    public void Eviction_starts_past_a_bound_and_stops_1_32nd_below_it()
    {
        var policy = new StorePolicy(new EventStoreOptions { Path = "x", MaxStoredEvents = 3200, MaxStorageBytes = 320_000 });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(policy.IsOverCapacity(3200, 320_000), Is.False);
            Assert.That(policy.IsOverCapacity(3201, 0), Is.True);
            Assert.That(policy.IsOverCapacity(0, 320_001), Is.True);
            Assert.That(policy.IsAboveTarget(3101, 0), Is.True);
            Assert.That(policy.IsAboveTarget(3100, 310_000), Is.False);
            Assert.That(policy.IsAboveTarget(0, 310_001), Is.True);
        }
    }

    [Test]
    public void Expiry_is_checked_every_16th_of_the_time_to_live_between_a_second_and_an_hour()
    {
        var now = new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
        var week = new StorePolicy(new EventStoreOptions { Path = "x", EventTimeToLive = TimeSpan.FromDays(7) });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(week.ExpiryCheckInterval, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(new StorePolicy(new EventStoreOptions { Path = "x", EventTimeToLive = TimeSpan.FromMinutes(16) }).ExpiryCheckInterval, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(new StorePolicy(new EventStoreOptions { Path = "x", EventTimeToLive = TimeSpan.FromSeconds(2) }).ExpiryCheckInterval, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(week.ExpiredBefore(now), Is.EqualTo(now.AddDays(-7).UtcTicks));
        }
    }

    [Test]
    public void Compaction_needs_a_big_file_three_quarters_free_little_to_copy_and_growth_since_the_last()
    {
        const long MiB = 1024 * 1024;
        var policy = new StorePolicy(new EventStoreOptions { Path = "x" });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(policy.ShouldCompact(64 * MiB, 16 * MiB, 0), Is.True);
            Assert.That(policy.ShouldCompact(7 * MiB, 0, 0), Is.False, "small file");
            Assert.That(policy.ShouldCompact(64 * MiB, 17 * MiB, 0), Is.False, "not mostly free");
            Assert.That(policy.ShouldCompact(512 * MiB, 33 * MiB, 0), Is.False, "too much to copy at once");
            Assert.That(policy.ShouldCompact(64 * MiB, 0, 33 * MiB), Is.False, "not grown to twice its size since the last compaction");
        }
    }
}
