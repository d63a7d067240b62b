using System.Net;
using Clickstream.Collector;
using Clickstream.Pipeline.Raccoon;
using Microsoft.Extensions.Time.Testing;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

[CancelAfter(30_000)]
public class CollectorFaultsTests
{
    private HttpClient _client = null!;
    private SignalingTimeProvider _time = null!;
    private RaccoonCollector _collector = null!;

    [OneTimeSetUp]
    public void CreateClient() => _client = new HttpClient();

    [OneTimeTearDown]
    public void DisposeClient() => _client.Dispose();

    [SetUp]
    public async Task StartCollector()
    {
        _time = new SignalingTimeProvider(Now);
        _collector = await RaccoonCollector.StartAsync(new CollectorOptions { TimeProvider = _time });
    }

    [TearDown]
    public async Task StopCollector() => await _collector.DisposeAsync();

    [Test]
    public async Task FailNext_fails_that_many_requests_uncounted_then_succeeds()
    {
        _collector.Faults.FailNext(2);

        (HttpStatusCode first, SendEventResponse firstAnswer) = await SendAsync(Batch("r-1", pageViews: 3));
        (HttpStatusCode second, _) = await SendAsync(Batch("r-2", pageViews: 3));
        (HttpStatusCode third, SendEventResponse thirdAnswer) = await SendAsync(Batch("r-3", pageViews: 4));

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(second, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(firstAnswer.Status, Is.EqualTo(Status.Error));
            Assert.That(firstAnswer.Code, Is.EqualTo(Code.InternalError));
            Assert.That(firstAnswer.Reason, Does.StartWith("cannot publish events:"));
            Assert.That(firstAnswer.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That(third, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(thirdAnswer.Code, Is.EqualTo(Code.Ok));
            Assert.That(stats.Requests, Is.EqualTo(3));
            Assert.That(stats.FailedRequests, Is.EqualTo(2));
            Assert.That(stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(stats.RejectedRequests, Is.Zero);
            Assert.That(stats.Events, Is.EqualTo(4));
            Assert.That(stats.RequestIds(), Is.EqualTo(new[] { "r-3" }));
        }
    }

    [Test]
    public async Task FailNext_with_400_answers_bad_request_code()
    {
        _collector.Faults.FailNext(1, statusCode: 400);

        (HttpStatusCode status, SendEventResponse answer) = await SendAsync(Batch("r-1", pageViews: 1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(answer.Code, Is.EqualTo(Code.BadRequest));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task FailNext_does_not_spend_itself_on_requests_raccoon_rejects()
    {
        _collector.Faults.FailNext(1, statusCode: 503);

        using (HttpResponseMessage rejected = await PostAsync(_client, _collector.EventsEndpoint, [1], "text/plain"))
        {
            Assert.That(rejected.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }

        (HttpStatusCode status, _) = await SendAsync(Batch("r-1", pageViews: 1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(_collector.Stats.RejectedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task AlwaysFail_fails_every_request_until_switched_off()
    {
        _collector.Faults.AlwaysFail(502);
        (HttpStatusCode first, _) = await SendAsync(Batch("r-1", pageViews: 1));
        (HttpStatusCode second, _) = await SendAsync(Batch("r-2", pageViews: 1));

        _collector.Faults.AlwaysFail(null);
        (HttpStatusCode third, _) = await SendAsync(Batch("r-3", pageViews: 1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(HttpStatusCode.BadGateway));
            Assert.That(second, Is.EqualTo(HttpStatusCode.BadGateway));
            Assert.That(third, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(2));
            Assert.That(_collector.Stats.Events, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task RespondWithWrongRequestGuid_acks_another_guid_and_counts_the_events()
    {
        _collector.Faults.RespondWithWrongRequestGuid = true;

        (HttpStatusCode status, SendEventResponse answer) = await SendAsync(Batch("r-1", pageViews: 2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Status, Is.EqualTo(Status.Success));
            Assert.That(answer.Data["req_guid"], Is.Not.EqualTo("r-1").And.Not.Empty);
            Assert.That(_collector.Stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Events, Is.EqualTo(2));
            Assert.That(_collector.Stats.RequestIds(), Is.EqualTo(new[] { "r-1" }));
        }
    }

    [Test]
    public async Task Delay_holds_the_answer_until_the_clock_advances()
    {
        _collector.Faults.Delay = TimeSpan.FromSeconds(5);

        Task<(HttpStatusCode, SendEventResponse)> send = SendAsync(Batch("r-1", pageViews: 1));
        await _time.TimerCreated.WaitAsync(Guard());

        // The events are counted before the wait, as Raccoon hands them on before it answers.
        Assert.That(send.IsCompleted, Is.False);
        Assert.That(_collector.Stats.Events, Is.EqualTo(1));

        _time.Advance(TimeSpan.FromSeconds(5));
        (HttpStatusCode status, SendEventResponse answer) = await send;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.SentTime, Is.EqualTo(Now.ToUnixTimeSeconds() + 5), "sent_time is taken when answering");
        }
    }

    [Test]
    public async Task WithholdResponses_counts_the_events_and_holds_the_answer_until_switched_off()
    {
        _collector.Faults.WithholdResponses = true;

        Task<(HttpStatusCode, SendEventResponse)> send = SendAsync(Batch("held", pageViews: 2));
        await _collector.WaitForEventsAsync(2, Guard());
        Assert.That(send.IsCompleted, Is.False, "counted, not answered");

        _collector.Faults.WithholdResponses = false;
        (HttpStatusCode status, SendEventResponse answer) = await send;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("held"));
            Assert.That(_collector.Stats.AcceptedRequests, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task WithholdResponses_held_request_is_aborted_when_the_collector_stops()
    {
        _collector.Faults.WithholdResponses = true;
        Task<(HttpStatusCode, SendEventResponse)> send = SendAsync(Batch("held", pageViews: 1));
        await _collector.WaitForEventsAsync(1, Guard());

        await _collector.DisposeAsync();

        Assert.That(async () => await send, Throws.InstanceOf<HttpRequestException>());
    }

    [Test]
    public void Reset_switches_every_fault_off()
    {
        CollectorFaults faults = _collector.Faults;
        faults.FailNext(3);
        faults.AlwaysFail(500);
        faults.Delay = TimeSpan.FromSeconds(1);
        faults.RespondWithWrongRequestGuid = true;
        faults.WithholdResponses = true;

        faults.Reset();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(faults.Delay, Is.EqualTo(TimeSpan.Zero));
            Assert.That(faults.RespondWithWrongRequestGuid, Is.False);
            Assert.That(faults.WithholdResponses, Is.False);
        }

        Assert.That(async () => (await SendAsync(Batch("r-1", pageViews: 1))).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase(200)]
    [TestCase(399)]
    [TestCase(600)]
    public void FailNext_status_outside_400_to_599_throws(int statusCode)
    {
        Assert.That(() => _collector.Faults.FailNext(1, statusCode), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Delay_negative_throws()
    {
        Assert.That(() => _collector.Faults.Delay = TimeSpan.FromSeconds(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    private async Task<(HttpStatusCode Status, SendEventResponse Answer)> SendAsync(SendEventRequest request)
    {
        using HttpResponseMessage response = await PostProtoAsync(_client, _collector.EventsEndpoint, request);
        return (response.StatusCode, await ReadAnswerAsync(response, Proto));
    }

    /// <summary>A fake clock that tells when the collector starts its delay, so the test advances it at the right moment.</summary>
    private sealed class SignalingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly TaskCompletionSource _timerCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task TimerCreated => _timerCreated.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            _timerCreated.TrySetResult();
            return timer;
        }
    }
}
