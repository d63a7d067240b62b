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
    public async Task Inspect_lists_the_newest_dead_letters_with_type_and_reason_in_json_and_in_the_table()
    {
        using var store = new StoreHarness();
        store.Start(store.Options());
        var events = store.Events(1, 3);
        await store.CommitAsync(events);
        await store.Store.DeadLetterAsync(events[0], "Rejected 400: cannot deserialize").WaitAsync(store.Guard);
        await store.Store.DeadLetterAsync(events[2], "Rejected 422: bad field").WaitAsync(store.Guard);

        // While the store is open: inspect reads a copy.
        var json = await CliRunner.RunAsync(["inspect", store.Folder.StorePath, "--json"]);
        var table = await CliRunner.RunAsync(["inspect", store.Folder.StorePath, "--dead-letters", "1"]);

        using var document = JsonDocument.Parse(json.Output);
        var letters = document.RootElement.GetProperty("newest_dead_letters");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(json.ExitCode, Is.Zero, json.Errors);
            Assert.That(document.RootElement.GetProperty("dead_letters").GetInt64(), Is.EqualTo(2));
            Assert.That(letters.GetArrayLength(), Is.EqualTo(2));
            Assert.That(letters[0].GetProperty("id").GetInt64(), Is.EqualTo(3), "newest first");
            Assert.That(letters[0].GetProperty("reason").GetString(), Is.EqualTo("Rejected 422: bad field"));
            Assert.That(letters[0].GetProperty("type").GetString(), Is.EqualTo(events[2].TypeInfo.Type));
            Assert.That(letters[1].GetProperty("reason").GetString(), Is.EqualTo("Rejected 400: cannot deserialize"));
            Assert.That(table.ExitCode, Is.Zero, table.Errors);
            Assert.That(table.Output, Does.Contain("newest 1 of 2 dead letters").And.Contain("Rejected 422: bad field").And.Contain(events[2].TypeInfo.Type));
            Assert.That(table.Output, Does.Not.Contain("cannot deserialize"), "--dead-letters 1 lists one");
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
        var options = new ClickstreamOptions { Endpoint = collector.EventsEndpoint, StoragePath = Folder.StorePath, ShutdownTimeout = TimeSpan.Zero };
        await using var pipeline = ClickstreamPipeline.Create(options);

        // Paused, no batch is cut: no request can be in flight (its record written) when the pipeline is disposed.
        pipeline.Pause();
        for (var i = 0; i < count; i++)
        {
            await pipeline.TrackAsync(Samples.SampleEvents.PageView(i), Timeouts.Guard());
        }
    }
}
