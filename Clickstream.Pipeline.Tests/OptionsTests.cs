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
        };

        var ex = Assert.Throws<ArgumentException>(() => ClickstreamPipeline.Create(options));
        Assert.That(ex!.Message, Does.Contain("Endpoint")
            .And.Contain("MaxBatchSize")
            .And.Contain("MaxBatchBytes")
            .And.Contain("MaxTimeBetweenTwoBatches")
            .And.Contain("RetryMaxDelay")
            .And.Contain("EventGroup"));
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
    public void Default_storage_path_is_under_local_application_data()
    {
        Assert.That(new ClickstreamOptions().StoragePath, Does.EndWith(Path.Combine("clickstream", "events.db")));
    }
}
