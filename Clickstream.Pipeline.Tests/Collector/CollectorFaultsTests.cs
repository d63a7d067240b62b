using System.Globalization;
using System.Net;
using System.Text.Json;
using Clickstream.Collector;
using Clickstream.Raccoon;
using Google.Protobuf;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

[CancelAfter(30_000)]
public class CollectorFaultsTests : CollectorTestBase
{
    protected override CollectorOptions CreateOptions() => OnSignalingClock(new CollectorOptions());

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
            Assert.That(stats.FaultsByKind(), Is.EqualTo(new Dictionary<FaultKind, long> { [FaultKind.ErrorStatus] = 2 }));
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

        using (HttpResponseMessage rejected = await PostAsync(Http, _collector.EventsEndpoint, [1], "text/plain"))
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
            Assert.That(_collector.Stats.Faults(FaultKind.WrongRequestGuid), Is.EqualTo(1));
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
            Assert.That(_collector.Stats.Faults(FaultKind.DelayedAnswer), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task WithholdResponses_counts_the_events_and_holds_the_answer_until_switched_off()
    {
        _collector.Faults.WithholdResponses = true;

        Task<(HttpStatusCode, SendEventResponse)> send = SendAsync(Batch("held", pageViews: 2));
        CancellationToken guard = Guard();
        await _collector.WaitForEventsAsync(2, guard);

        // The events are counted before the answer is held: wait until the hold has begun, or switching the fault
        // off below could come first and nothing would be withheld (seen in CI under load).
        while (_collector.Stats.Faults(FaultKind.WithheldAnswer) == 0)
        {
            guard.ThrowIfCancellationRequested();
            await Task.Yield();
        }

        Assert.That(send.IsCompleted, Is.False, "counted, not answered");

        _collector.Faults.WithholdResponses = false;
        (HttpStatusCode status, SendEventResponse answer) = await send;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("held"));
            Assert.That(_collector.Stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(_collector.Stats.Faults(FaultKind.WithheldAnswer), Is.EqualTo(1));
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
        faults.FailRandomly(1, Fault.ConnectionReset);
        faults.ScheduleOutages(new OutageSchedule(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)));
        faults.GoDown();

        faults.Reset();
        _time.Advance(TimeSpan.FromSeconds(10));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(faults.Delay, Is.EqualTo(TimeSpan.Zero));
            Assert.That(faults.RespondWithWrongRequestGuid, Is.False);
            Assert.That(faults.WithholdResponses, Is.False);
            Assert.That(faults.IsDown, Is.False, "back up, and the schedule stopped");
        }

        Assert.That(async () => (await SendAsync(Batch("r-1", pageViews: 1))).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task FailNext_503_with_retry_after_seconds_sends_delta_seconds()
    {
        _collector.Faults.FailNext(1, 503, RetryAfter.Seconds(5));

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 1));
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(response.Headers.GetValues("Retry-After"), Is.EqualTo(new[] { "5" }));
            Assert.That(response.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(answer.Code, Is.EqualTo(Code.InternalError));
            Assert.That(_collector.Stats.Faults(FaultKind.ErrorStatus), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task FailNext_503_with_retry_after_date_sends_an_http_date()
    {
        _collector.Faults.FailNext(1, Fault.Status(503, RetryAfter.At(Now.AddSeconds(30))));

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(response.Headers.GetValues("Retry-After"), Is.EqualTo(new[] { Now.AddSeconds(30).ToString("r", CultureInfo.InvariantCulture) }));
            Assert.That(response.Headers.RetryAfter!.Date, Is.EqualTo(Now.AddSeconds(30)));
        }
    }

    [Test]
    public async Task Retry_after_DateIn_is_an_http_date_on_the_collector_clock_at_each_answer()
    {
        _collector.Faults.AlwaysFail(503, RetryAfter.DateIn(TimeSpan.FromSeconds(90)));

        using HttpResponseMessage first = await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 1));
        _time.Advance(TimeSpan.FromSeconds(10));
        using HttpResponseMessage second = await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-2", pageViews: 1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Headers.RetryAfter!.Date, Is.EqualTo(Now.AddSeconds(90)));
            Assert.That(second.Headers.RetryAfter!.Date, Is.EqualTo(Now.AddSeconds(100)));
        }
    }

    [Test]
    public async Task AlwaysFail_429_with_retry_after_answers_too_many_requests_with_the_header()
    {
        _collector.Faults.AlwaysFail(429, RetryAfter.Seconds(2));

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 1));
        SendEventResponse answer = await ReadAnswerAsync(response, Proto);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(response.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("r-1"));
        }
    }

    [Test]
    public async Task Error_status_without_retry_after_sends_no_header()
    {
        _collector.Faults.FailNext(1, 500);

        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 1));

        Assert.That(response.Headers.Contains("Retry-After"), Is.False);
    }

    [Test]
    public async Task SoftError_answers_200_with_status_error_and_internal_error_code()
    {
        _collector.Faults.FailNext(1, Fault.SoftError);

        (HttpStatusCode status, SendEventResponse answer) = await SendAsync(Batch("r-1", pageViews: 2));

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Status, Is.EqualTo(Status.Error));
            Assert.That(answer.Code, Is.EqualTo(Code.InternalError));
            Assert.That(answer.Data["req_guid"], Is.EqualTo("r-1"));
            Assert.That(stats.FailedRequests, Is.EqualTo(1));
            Assert.That(stats.Events, Is.Zero);
            Assert.That(stats.Faults(FaultKind.SoftError), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ConnectionReset_aborts_the_connection_without_an_answer()
    {
        _collector.Faults.FailNext(1, Fault.ConnectionReset);

        Assert.That(async () => await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 1)), Throws.InstanceOf<HttpRequestException>());
        (HttpStatusCode next, _) = await SendAsync(Batch("r-2", pageViews: 1));

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(next, Is.EqualTo(HttpStatusCode.OK), "a new connection is answered");
            Assert.That(stats.Faults(FaultKind.ConnectionReset), Is.EqualTo(1));
            Assert.That(stats.FailedRequests, Is.EqualTo(1));
            Assert.That(stats.RequestIds(), Is.EqualTo(new[] { "r-2" }));
        }
    }

    [Test]
    public async Task TruncatedResponse_declares_the_whole_length_and_ends_after_half()
    {
        _collector.Faults.FailNext(1, Fault.TruncatedResponse);
        using var request = new HttpRequestMessage(HttpMethod.Post, _collector.EventsEndpoint) { Content = new ByteArrayContent(Batch("r-1", pageViews: 1).ToByteArray()) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", Proto);

        using HttpResponseMessage response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentLength, Is.GreaterThan(1));
            Assert.That(
                async () => await response.Content.ReadAsByteArrayAsync(Guard()),
                Throws.InstanceOf<HttpRequestException>().Or.InstanceOf<IOException>());
            Assert.That(_collector.Stats.Faults(FaultKind.TruncatedResponse), Is.EqualTo(1));
        }
    }

    [TestCase(Proto)]
    [TestCase(Json)]
    public async Task MalformedResponse_answers_200_with_bytes_that_do_not_decode(string format)
    {
        _collector.Faults.FailNext(1, Fault.MalformedResponse);
        SendEventRequest request = Batch("r-1", pageViews: 1);

        using HttpResponseMessage response = await PostAsync(Http, _collector.EventsEndpoint, format == Proto ? request.ToByteArray() : ToJson(request), format);
        byte[] body = await response.Content.ReadAsByteArrayAsync(Guard());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo(format), "in the declared content type");
            Assert.That(body, Is.Not.Empty);
            Assert.That(() => SendEventResponse.Parser.ParseFrom(body), Throws.InstanceOf<InvalidProtocolBufferException>());
            Assert.That(() => RaccoonJson.ReadResponse(body), Throws.InstanceOf<JsonException>().Or.InstanceOf<FormatException>());
            Assert.That(_collector.Stats.Faults(FaultKind.MalformedResponse), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task AfterAccepting_accepts_the_events_then_loses_the_answer()
    {
        _collector.Faults.FailNext(1, Fault.ConnectionReset.AfterAccepting());

        Assert.That(async () => await PostProtoAsync(Http, _collector.EventsEndpoint, Batch("r-1", pageViews: 3)), Throws.InstanceOf<HttpRequestException>());

        CollectorStats stats = _collector.Stats;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.AcceptedRequests, Is.EqualTo(1));
            Assert.That(stats.FailedRequests, Is.Zero);
            Assert.That(stats.Events, Is.EqualTo(3), "a retry of this request is a duplicate");
            Assert.That(stats.RequestIds(), Is.EqualTo(new[] { "r-1" }));
            Assert.That(stats.Faults(FaultKind.ConnectionReset), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task FailRandomly_with_a_seed_fails_the_requests_its_random_sequence_picks()
    {
        const int Seed = 42;
        const double Rate = 0.3;
        _collector.Faults.FailRandomly(Rate, Fault.Status(503), Seed);

        // The documented draw: one NextDouble per request, sent one after another.
        var draws = new Random(Seed);
        var expected = new List<HttpStatusCode>();
        var actual = new List<HttpStatusCode>();
        for (int i = 0; i < 40; i++)
        {
            expected.Add(draws.NextDouble() < Rate ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
            actual.Add((await SendAsync(Batch($"r-{i}", pageViews: 1))).Status);
        }

        int failures = expected.Count(status => status != HttpStatusCode.OK);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(actual, Is.EqualTo(expected));
            Assert.That(failures, Is.InRange(1, 39), "the seed gives a mix");
            Assert.That(_collector.Stats.Faults(FaultKind.ErrorStatus), Is.EqualTo(failures));
            Assert.That(_collector.Stats.FailedRequests, Is.EqualTo(failures));
        }
    }

    [Test]
    public async Task FailRandomly_mix_gives_each_request_the_fault_whose_running_total_covers_its_draw()
    {
        const int Seed = 7;
        _collector.Faults.FailRandomly([new FaultRate(Fault.Status(429), 0.25), new FaultRate(Fault.SoftError, 0.25)], Seed);

        var draws = new Random(Seed);
        var expected = new List<(HttpStatusCode, Status)>();
        var actual = new List<(HttpStatusCode, Status)>();
        for (int i = 0; i < 30; i++)
        {
            double draw = draws.NextDouble();
            expected.Add(draw < 0.25 ? (HttpStatusCode.TooManyRequests, Status.Error)
                : draw < 0.5 ? (HttpStatusCode.OK, Status.Error)
                : (HttpStatusCode.OK, Status.Success));
            (HttpStatusCode status, SendEventResponse answer) = await SendAsync(Batch($"r-{i}", pageViews: 1));
            actual.Add((status, answer.Status));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(actual, Is.EqualTo(expected));
            Assert.That(_collector.Stats.Faults(FaultKind.ErrorStatus), Is.EqualTo(expected.Count(e => e.Item1 == HttpStatusCode.TooManyRequests)));
            Assert.That(_collector.Stats.Faults(FaultKind.SoftError), Is.EqualTo(expected.Count(e => e == (HttpStatusCode.OK, Status.Error))));
        }
    }

    [Test]
    public async Task FailNext_takes_precedence_over_AlwaysFail_which_takes_precedence_over_random_faults()
    {
        _collector.Faults.FailRandomly(1, Fault.SoftError);
        _collector.Faults.AlwaysFail(502);
        _collector.Faults.FailNext(1, 400);

        (HttpStatusCode first, _) = await SendAsync(Batch("r-1", pageViews: 1));
        (HttpStatusCode second, _) = await SendAsync(Batch("r-2", pageViews: 1));
        _collector.Faults.AlwaysFail(null);
        (HttpStatusCode third, SendEventResponse thirdAnswer) = await SendAsync(Batch("r-3", pageViews: 1));
        _collector.Faults.FailRandomly([]);
        (HttpStatusCode fourth, SendEventResponse fourthAnswer) = await SendAsync(Batch("r-4", pageViews: 1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(second, Is.EqualTo(HttpStatusCode.BadGateway));
            Assert.That((third, thirdAnswer.Status), Is.EqualTo((HttpStatusCode.OK, Status.Error)));
            Assert.That((fourth, fourthAnswer.Status), Is.EqualTo((HttpStatusCode.OK, Status.Success)));
        }
    }

    [TestCase(-0.1)]
    [TestCase(1.1)]
    [TestCase(double.NaN)]
    public void FailRandomly_rate_outside_0_to_1_throws(double rate)
    {
        Assert.That(() => _collector.Faults.FailRandomly(rate, Fault.SoftError), Throws.ArgumentException);
    }

    [Test]
    public async Task FailRandomly_rates_adding_up_to_more_than_1_throws_and_keeps_the_earlier_faults()
    {
        _collector.Faults.FailRandomly(1, Fault.SoftError);

        Assert.That(
            () => _collector.Faults.FailRandomly([new FaultRate(Fault.SoftError, 0.6), new FaultRate(Fault.ConnectionReset, 0.5)]),
            Throws.ArgumentException.With.Message.Contains("at most 1"));
        (HttpStatusCode status, SendEventResponse answer) = await SendAsync(Batch("r-1", pageViews: 1));

        Assert.That((status, answer.Status), Is.EqualTo((HttpStatusCode.OK, Status.Error)));
    }

    [Test]
    public void Fault_Status_outside_400_to_599_throws()
    {
        Assert.That(() => Fault.Status(302), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public async Task Stats_Reset_clears_the_fault_counts()
    {
        _collector.Faults.FailNext(1, Fault.SoftError);
        await SendAsync(Batch("r-1", pageViews: 1));

        _collector.Stats.Reset();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_collector.Stats.Faults(FaultKind.SoftError), Is.Zero);
            Assert.That(_collector.Stats.FaultsByKind(), Is.Empty);
        }
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
        using HttpResponseMessage response = await PostProtoAsync(Http, _collector.EventsEndpoint, request);
        return (response.StatusCode, await ReadAnswerAsync(response, Proto));
    }
}
