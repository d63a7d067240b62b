namespace Clickstream.Pipeline.Tests;

public class OptionsTests
{
    [Test]
    public void Create_with_several_invalid_options_reports_every_one_in_one_exception()
    {
        var options = new ClickstreamOptions
        {
            Endpoint = null,
            MaxBatchSize = 0,
            MaxBatchBytes = -1,
            MaxTimeBetweenTwoBatches = TimeSpan.Zero,
            RetryBaseDelay = TimeSpan.FromSeconds(10),
            RetryMaxDelay = TimeSpan.FromSeconds(1),
            EventGroup = "no spaces",
            MaxDeadLetters = 0,
            ProbeInterval = TimeSpan.Zero,
            DiskSyncInterval = TimeSpan.FromSeconds(-2),
            QueueFullMode = (ClickstreamQueueFullMode)7,
        };

        var ex = Assert.Throws<ArgumentException>(() => ClickstreamPipeline.Create(options));
        Assert.That(ex!.Message, Does.Contain("Endpoint")
            .And.Contain("MaxBatchSize")
            .And.Contain("MaxBatchBytes")
            .And.Contain("MaxTimeBetweenTwoBatches")
            .And.Contain("RetryMaxDelay")
            .And.Contain("EventGroup")
            .And.Contain("MaxDeadLetters")
            .And.Contain("ProbeInterval")
            .And.Contain("DiskSyncInterval")
            .And.Contain("QueueFullMode"));
    }

    [TestCase("ftp://host/api/v1/events")]
    [TestCase("/api/v1/events")]
    public void Endpoint_that_is_not_absolute_http_is_refused(string endpoint)
    {
        var options = new ClickstreamOptions { Endpoint = new Uri(endpoint, UriKind.RelativeOrAbsolute) };
        var ex = Assert.Throws<ArgumentException>(() => ClickstreamPipeline.Create(options));
        Assert.That(ex!.Message, Does.Contain("Endpoint"));
    }

    [Test]
    public void Options_changed_after_Create_do_not_reach_the_pipeline()
    {
        var options = new ClickstreamOptions { Endpoint = new Uri("http://127.0.0.1:1/api/v1/events") };
        var settings = PipelineSettings.Create(options);
        options.MaxBatchSize = 1;
        options.InstantEventTypes.Add("Click");
        Assert.That(settings.MaxBatchSize, Is.EqualTo(500));
        Assert.That(settings.InstantEventTypes, Is.Empty);
    }

    [Test]
    public void Default_storage_path_is_the_apps_own_folder_under_local_application_data()
    {
        var app = System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name!;
        var localData = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);

        Assert.That(new ClickstreamOptions().StoragePath, Is.EqualTo(Path.Combine(localData, "clickstream", ClickstreamDefaults.FolderName(app), "events.db")));
    }

    [TestCase("Shop.Web", "Shop.Web")]
    [TestCase("a:b/c\\d*e?f", "a_b_c_d_e_f")]
    [TestCase("app. ", "app")]
    [TestCase("..", ClickstreamDefaults.UnknownAppName)]
    [TestCase("  ", ClickstreamDefaults.UnknownAppName)]
    [TestCase(null, ClickstreamDefaults.UnknownAppName)]
    public void Default_storage_folder_is_the_app_name_made_valid_for_any_file_system(string? app, string folder)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ClickstreamDefaults.FolderName(app), Is.EqualTo(folder));
            Assert.That(Path.GetFileName(Path.GetDirectoryName(ClickstreamDefaults.StoragePathFor(app))), Is.EqualTo(folder));
        }
    }
}
