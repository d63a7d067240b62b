using System.Security.Cryptography.X509Certificates;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.Contract;

/// <summary>
/// What every transport must do, run against each (as runtime's ChannelTestBase is run against each channel):
/// the whole pipeline, a real collector on loopback, the pipeline's clock faked.
/// </summary>
public abstract class TransportContractTests
{
    private static readonly TimeSpan RetryBase = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly List<IAsyncDisposable> _resources = [];

    protected abstract ClickstreamTransport Transport { get; }

    [TearDown]
    public async Task TearDown()
    {
        for (var i = _resources.Count - 1; i >= 0; i--)
        {
            await _resources[i].DisposeAsync();
        }

        _resources.Clear();
    }

    private async Task<PipelineHarness> StartAsync(Action<CollectorOptions>? configure = null)
    {
        var harness = await PipelineHarness.StartAsync(configure);
        harness.Transport = Transport;
        _resources.Add(harness);
        return harness;
    }

    /// <summary>A pipeline whose batches are cut at 10 events: a test that tracks 10 needs no flush and no clock.</summary>
    private static ClickstreamPipeline Create(PipelineHarness harness, Action<ClickstreamOptions>? configure = null) =>
        harness.Create(o =>
        {
            o.MaxBatchSize = 10;
            o.RetryBaseDelay = RetryBase;
            o.RetryMaxDelay = RetryBase;
            o.RequestTimeout = Timeout;
            o.WebSocket.AckTimeout = Timeout;
            o.WebSocket.ReconnectBaseDelay = RetryBase;
            o.WebSocket.ReconnectMaxDelay = RetryBase;
            o.Headers["X-User-ID"] = "user-" + Guid.NewGuid().ToString("N");
            configure?.Invoke(o);
        });

    private static async Task TrackAsync(ClickstreamPipeline pipeline, int count, int first = 0)
    {
        for (var i = first; i < first + count; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }
    }

    /// <summary>
    /// Flushes, moving the fake clock past the retry and reconnect delays each time a batch fails, until the
    /// flush completes (bounded: a transport that never recovers fails the test).
    /// </summary>
    private static async Task FlushDrivingTimeAsync(PipelineHarness harness, ClickstreamPipeline pipeline, int maxSteps = 20)
    {
        var flush = pipeline.FlushAsync(harness.Guard);
        for (var i = 0; i < maxSteps && !flush.IsCompleted; i++)
        {
            // Past every retry and reconnect delay (all equal to RetryBase here), then wait for the next outcome.
            var before = pipeline.GetStatistics();
            harness.Time.Advance(RetryBase);
            var outcome = harness.WaitAsync(pipeline, s => s.BatchesFailed > before.BatchesFailed || s.BatchesAcknowledged > before.BatchesAcknowledged);
            await Task.WhenAny(flush, outcome);
        }

        await flush;
    }

    [Test]
    public async Task Flush_delivers_every_event_and_the_ack_deletes_it()
    {
        var harness = await StartAsync();
        var pipeline = Create(harness);
        await TrackAsync(pipeline, 35);
        await pipeline.FlushAsync(harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 35).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(pipeline.GetStatistics().EventsAcknowledged, Is.EqualTo(35));
            Assert.That(StoreFile.CommittedEventIds(harness.Folder.StorePath), Is.Empty);
            Assert.That(harness.Collector.Stats.ReceivedRequests().Select(r => r.Protocol).Distinct(), Is.EqualTo(new[] { ExpectedProtocol }));
        }
    }

    [Test]
    public async Task Server_failure_makes_the_same_events_arrive_again()
    {
        var harness = await StartAsync();
        harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Create(harness);
        await TrackAsync(pipeline, 10);

        await harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Assert.That(StoreFile.CommittedEventIds(harness.Folder.StorePath), Has.Count.EqualTo(10), "a failed request deletes nothing");
        harness.Time.Advance(RetryBase);
        await pipeline.FlushAsync(harness.Guard);

        Assert.That(harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 10).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
        Assert.That(pipeline.GetStatistics().BatchesRetried, Is.EqualTo(1));
    }

    [Test]
    public async Task Request_without_an_answer_times_out_and_is_sent_again()
    {
        var harness = await StartAsync();
        harness.Collector.Faults.WithholdResponses = true;
        var pipeline = Create(harness);
        await TrackAsync(pipeline, 10);
        await harness.Collector.WaitForEventsAsync(10, harness.Guard);
        Assert.That(pipeline.GetStatistics().BatchesFailed, Is.Zero, "no failure before the timeout");

        harness.Time.Advance(Timeout);
        await harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        harness.Collector.Faults.WithholdResponses = false;
        await FlushDrivingTimeAsync(harness, pipeline);

        var stats = pipeline.GetStatistics();
        Assert.That(stats.EventsAcknowledged, Is.EqualTo(10));
        Assert.That(harness.Collector.Stats.Events, Is.EqualTo(20), "the unanswered request's events arrive again: at-least-once");
    }

    [Test]
    public async Task Delivery_resumes_after_the_server_drops_every_connection()
    {
        var harness = await StartAsync();
        var pipeline = Create(harness);
        await TrackAsync(pipeline, 10);
        await pipeline.FlushAsync(harness.Guard);

        await harness.RestartCollectorAsync();
        await TrackAsync(pipeline, 10, first: 10);
        await FlushDrivingTimeAsync(harness, pipeline);

        Assert.That(harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(10, 10).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
    }

    [Test]
    public async Task Headers_and_the_rotating_token_reach_the_server()
    {
        var harness = await StartAsync(o => o.BearerToken = "secret");
        var calls = 0;
        var pipeline = Create(harness, o =>
        {
            o.Headers["X-User-ID"] = "user-42";
            o.Headers["X-User-Group"] = "beta";
            o.AuthorizationProvider = _ =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.FromResult("Bearer secret");
            };
        });
        await TrackAsync(pipeline, 20);
        await pipeline.FlushAsync(harness.Guard);

        var requests = harness.Collector.Stats.ReceivedRequests();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(requests, Is.Not.Empty);
            Assert.That(requests.Select(r => r.UserId), Is.All.EqualTo("user-42"));
            Assert.That(requests.Select(r => r.UserGroup), Is.All.EqualTo("beta"));
            Assert.That(requests.Select(r => r.Authorization), Is.All.EqualTo("Bearer secret"));
            Assert.That(calls, Is.GreaterThan(0), "the provider is asked, so that a token can rotate");
        }
    }

    [Test]
    public async Task Wrong_token_is_refused_and_nothing_is_acknowledged()
    {
        var harness = await StartAsync(o => o.BearerToken = "secret");
        var pipeline = Create(harness, o => o.AuthorizationProvider = _ => ValueTask.FromResult("Bearer wrong"));
        await TrackAsync(pipeline, 10);

        var stats = await harness.WaitAsync(pipeline, s => s.BatchesFailed >= 1);
        Assert.That(stats.EventsAcknowledged, Is.Zero);
        Assert.That(harness.Collector.Stats.Events, Is.Zero);
        Assert.That(StoreFile.CommittedEventIds(harness.Folder.StorePath), Has.Count.EqualTo(10));
    }

    [Test]
    public async Task Tls_with_the_pinned_certificate_delivers()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        var harness = await StartAsync(o => o.ServerCertificate = certificate);
        var pipeline = Create(harness, o => o.ServerCertificateValidation = TestCertificates.Trust(certificate));
        await TrackAsync(pipeline, 10);
        await pipeline.FlushAsync(harness.Guard);

        Assert.That(harness.Endpoint(Transport).Scheme, Is.AnyOf("https", "wss"));
        Assert.That(harness.Collector.Stats.Events, Is.EqualTo(10));
    }

    [Test]
    public async Task Tls_with_an_untrusted_certificate_is_refused()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        using var other = TestCertificates.CreateSelfSigned();
        var harness = await StartAsync(o => o.ServerCertificate = certificate);
        var pipeline = Create(harness, o => o.ServerCertificateValidation = TestCertificates.Trust(other));
        await TrackAsync(pipeline, 10);

        var stats = await harness.WaitAsync(pipeline, s => s.BatchesFailed >= 1);
        Assert.That(stats.EventsAcknowledged, Is.Zero);
        Assert.That(harness.Collector.Stats.Events, Is.Zero);
    }

    [Test]
    public async Task Tls_without_a_callback_uses_system_trust_and_refuses_a_self_signed_server()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        var harness = await StartAsync(o => o.ServerCertificate = certificate);
        var pipeline = Create(harness);
        await TrackAsync(pipeline, 10);

        var stats = await harness.WaitAsync(pipeline, s => s.BatchesFailed >= 1);
        Assert.That(stats.EventsAcknowledged, Is.Zero);
    }

    [Test]
    public async Task Token_provider_that_throws_fails_the_batch_then_every_event_arrives()
    {
        var harness = await StartAsync(o => o.BearerToken = "secret");
        var calls = 0;
        var pipeline = Create(harness, o => o.AuthorizationProvider = _ =>
            Interlocked.Increment(ref calls) <= 3 ? throw new InvalidOperationException("token service down") : ValueTask.FromResult("Bearer secret"));
        await TrackAsync(pipeline, 20);
        await FlushDrivingTimeAsync(harness, pipeline);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(harness.ReceivedPayloads().Distinct(), Is.EquivalentTo(Enumerable.Range(0, 20).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(stats.BatchesFailedTransient, Is.GreaterThanOrEqualTo(1), "each throw failed its batch");
            Assert.That(stats.BatchesRetried, Is.GreaterThanOrEqualTo(1));
            Assert.That(stats.EventsDeadLettered, Is.Zero);
            Assert.That(stats.EventsPendingOnDisk, Is.Zero);
        }
    }

    [Test]
    public async Task Token_provider_that_hangs_ignoring_its_token_is_abandoned_at_the_request_timeout()
    {
        var harness = await StartAsync(o => o.BearerToken = "secret");
        var never = new TaskCompletionSource<string>();
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var pipeline = Create(harness, o => o.AuthorizationProvider = _ =>
        {
            if (Interlocked.Increment(ref calls) > 1)
            {
                return ValueTask.FromResult("Bearer secret");
            }

            asked.SetResult();
            return new ValueTask<string>(never.Task);
        });
        await TrackAsync(pipeline, 10);

        // The request's timeout is armed before the provider is asked: past it, the provider must be given up on.
        await asked.Task.WaitAsync(harness.Guard);
        harness.Time.Advance(Timeout);
        var failed = await harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        await FlushDrivingTimeAsync(harness, pipeline);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed.BatchesFailedTransient, Is.EqualTo(1), "the hung provider made a timeout of its request");
            Assert.That(harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 10).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(never.Task.IsCompleted, Is.False, "the provider never answered: it was abandoned, not awaited");
        }
    }

    [Test]
    public async Task Token_that_becomes_valid_delivers_every_event_after_one_configuration_error()
    {
        var harness = await StartAsync(o => o.BearerToken = "secret");
        var health = new Diagnostics.HealthRecorder();
        var valid = false;
        var pipeline = Create(harness, o =>
        {
            o.HealthObserver = health;
            o.AuthorizationProvider = _ => ValueTask.FromResult(Volatile.Read(ref valid) ? "Bearer secret" : "Bearer expired");
        });
        await TrackAsync(pipeline, 10);
        await harness.WaitAsync(pipeline, s => s.BatchesFailed >= 1);
        harness.Time.Advance(RetryBase);
        var refused = await harness.WaitAsync(pipeline, s => s.BatchesFailed >= 2);

        Volatile.Write(ref valid, true);
        await FlushDrivingTimeAsync(harness, pipeline);

        var stats = pipeline.GetStatistics();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(refused.BatchesFailedConfiguration, Is.EqualTo(refused.BatchesFailed), "401 says the credentials are wrong");
            Assert.That(health.Of(ClickstreamHealthEventKind.ConfigurationError), Has.Count.EqualTo(1), "once per episode");
            Assert.That(harness.ReceivedPayloads(), Is.EquivalentTo(Enumerable.Range(0, 10).Select(i => PipelineHarness.Payload(SampleEvents.PageView(i)))));
            Assert.That(stats.EventsDeadLettered, Is.Zero, "a refused token is never the events' fault");
        }
    }

    private CollectorProtocol ExpectedProtocol => Transport switch
    {
        ClickstreamTransport.Grpc => CollectorProtocol.Grpc,
        ClickstreamTransport.WebSocket => CollectorProtocol.WebSocket,
        _ => CollectorProtocol.Rest,
    };
}

[TestFixture]
public sealed class HttpProtoContractTests : TransportContractTests
{
    protected override ClickstreamTransport Transport => ClickstreamTransport.Http;
}

[TestFixture]
public sealed class HttpJsonContractTests : TransportContractTests
{
    protected override ClickstreamTransport Transport => ClickstreamTransport.HttpJson;
}

[TestFixture]
public sealed class GrpcContractTests : TransportContractTests
{
    protected override ClickstreamTransport Transport => ClickstreamTransport.Grpc;
}

[TestFixture]
public sealed class WebSocketContractTests : TransportContractTests
{
    protected override ClickstreamTransport Transport => ClickstreamTransport.WebSocket;
}
