using System.Text.Json;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Cli;

/// <summary><c>inspect</c> on a store a real pipeline left behind: QoS1 events tracked while the collector was paused.</summary>
public class InspectCommandTests : TempFolderTestBase
{
    [Test]
    public async Task Inspect_json_shows_the_events_a_pipeline_left_pending()
    {
        await LeaveEventsPendingAsync(25);

        var result = await CliRunner.RunAsync(["inspect", Folder.StorePath, "--json"]);

        Assert.That(result.ExitCode, Is.Zero, result.Errors);
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("events_pending").GetInt64(), Is.EqualTo(25));
            Assert.That(root.GetProperty("events_in_flight").GetInt64(), Is.Zero);
            Assert.That(root.GetProperty("dead_letters").GetInt64(), Is.Zero);
            Assert.That(root.GetProperty("file_bytes").GetInt64(), Is.Positive);
            Assert.That(root.GetProperty("oldest_event_age_seconds").GetDouble(), Is.GreaterThanOrEqualTo(0));
            Assert.That(root.GetProperty("path").GetString(), Is.EqualTo(Folder.StorePath));
        }
    }

    [Test]
    public async Task Inspect_prints_a_table()
    {
        await LeaveEventsPendingAsync(7);

        var result = await CliRunner.RunAsync(["inspect", Folder.StorePath]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.Errors);
            Assert.That(result.Output, Does.Match(@"events pending \(not acknowledged\)\s*│\s*7 │"));
            Assert.That(result.Output, Does.Contain("events dead-lettered").And.Contain("oldest pending event").And.Contain("file size"));
        }
    }

    [Test]
    public async Task Inspect_of_a_missing_file_exits_4_naming_it()
    {
        var missing = Path.Combine(Folder.Path, "missing.db");

        var result = await CliRunner.RunAsync(["inspect", missing]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(4));
            Assert.That(result.Errors, Does.Contain(missing).And.Contain("no such file"));
        }
    }

    [Test]
    public async Task Inspect_of_a_corrupt_file_exits_4_and_leaves_it_as_it_was()
    {
        var garbage = new byte[16_384];
        new Random(7).NextBytes(garbage);
        await File.WriteAllBytesAsync(Folder.StorePath, garbage);

        var result = await CliRunner.RunAsync(["inspect", Folder.StorePath, "--json"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(4));
            Assert.That(result.Errors, Does.Contain("cannot be read"));
            Assert.That(result.Output, Is.Empty, "no JSON for a script to misread");
            Assert.That(await File.ReadAllBytesAsync(Folder.StorePath), Is.EqualTo(garbage));
        }
    }

    [Test]
    public async Task Inspect_without_a_path_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync(["inspect"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Errors, Does.Contain("PATH"));
        }
    }

    private async Task LeaveEventsPendingAsync(int count)
    {
        await using var collector = await RaccoonCollector.StartAsync();
        collector.Faults.GoDown();
        var options = new ClickstreamOptions { Endpoint = collector.EventsEndpoint, StoragePath = Folder.StorePath, ShutdownTimeout = TimeSpan.Zero };
        await using var pipeline = ClickstreamPipeline.Create(options);
        for (var i = 0; i < count; i++)
        {
            await pipeline.TrackAsync(Samples.SampleEvents.PageView(i), Timeouts.Guard());
        }
    }
}
