using Clickstream.Collector;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>
/// Each <c>[LoggerMessage]</c> event of <c>Diagnostics/Log.cs</c>, made to happen by a real pipeline against the real
/// collector and seen by its id in a recording logger. (21, 22 and 23 are covered by the WebSocket transport tests,
/// 40 and 43 by the store bounds and compaction tests.) No message or value logged holds an event's payload.
/// </summary>
public class LogEventTests : PipelineTestBase
{
    private static readonly TimeSpan RetryBase = TimeSpan.FromSeconds(1);

    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void Record() => _logs = new RecordingLoggerFactory();

    [TearDown]
    public void StopRecording() => _logs.Dispose();

    private ClickstreamPipeline Create(Action<ClickstreamOptions>? configure = null, Func<PipelineSettings, IEventTransport>? transport = null, PipelineHooks? hooks = null) =>
        Harness.Create(
            o =>
            {
                o.LoggerFactory = _logs;
                o.MaxBatchSize = 5;
                o.RetryBaseDelay = RetryBase;
                o.RetryMaxDelay = TimeSpan.FromSeconds(8);
                configure?.Invoke(o);
            },
            transport,
            (hooks ?? PipelineHooks.None) with { Random = FixedRandom.Ceiling });

    private List<string> Messages(int eventId) => _logs.Entries.Where(e => e.EventId == eventId).Select(e => e.Message).ToList();

    [Test]
    public async Task Start_stop_and_pause_are_logged()
    {
        var pipeline = Create();
        pipeline.Pause();
        pipeline.Resume();
        await pipeline.DisposeAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Messages(1).Single(), Does.Contain(Harness.Collector.EventsEndpoint.ToString()).And.Contain("0 QoS1 events recovered"));
            Assert.That(Messages(6), Is.EqualTo(new[] { "Network marked unreachable; batching paused", "Network marked reachable; batching resumed" }));
            Assert.That(Messages(8), Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task Failed_request_is_logged_with_its_kind_and_what_became_of_its_events()
    {
        Harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Create();
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Assert.That(Messages(2).Single(), Does.Contain("of 5 events failed (ServerError").And.Contain("5 QoS1 events retried in").And.Contain("0 QoS0 events dropped"));
    }

    [Test]
    public async Task Unreachable_server_and_its_return_are_logged()
    {
        var pipeline = Create();
        await Harness.MakeUnreachableAsync(pipeline, TimeSpan.FromSeconds(8));
        Assert.That(Messages(10).Single(), Does.Contain("after 3 failures in a row (last: NetworkError"));

        await Harness.StartCollectorAgainAsync();
        Harness.Time.Advance(TimeSpan.FromSeconds(8));
        await Harness.WaitAsync(pipeline, s => s.IsReachable);
        Assert.That(Messages(11), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Dead_lettered_event_is_logged_by_its_id_and_type()
    {
        var poison = SampleEvents.PageView(1);
        var pipeline = Create(transport: settings => new RefusingTransport(new HttpTransport(settings, json: false), PipelineHarness.Payload(poison)));
        await pipeline.TrackAsync(SampleEvents.PageView(0));
        await pipeline.FlushAsync(Harness.Guard);
        await pipeline.TrackAsync(poison);
        await pipeline.FlushAsync(Harness.Guard);
        var letter = pipeline.GetDeadLetters().Single();
        Assert.That(Messages(9).Single(), Does.Contain(letter.EventGuid.ToString()).And.Contain("of type pageview").And.Contain("400"));
    }

    [Test]
    public async Task Exception_thrown_by_a_transport_is_a_failed_batch_logged_once_per_episode()
    {
        var pipeline = Create(transport: _ => new ThrowingTransport());
        for (var i = 0; i < 5; i++)
        {
            await pipeline.TrackAsync(SampleEvents.PageView(i));
        }

        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 1);
        Harness.Time.Advance(TimeSpan.FromMinutes(1));
        await Harness.WaitAsync(pipeline, s => s.BatchesFailed == 2);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Messages(2).Single(), Does.Contain("AppError: InvalidOperationException: transport bug"), "the first failure of the episode");
            Assert.That(Messages(14), Has.Count.EqualTo(1), "the next one at Debug");
            Assert.That(Messages(5), Is.Empty, "a failed batch, not a stage failure");
            Assert.That(pipeline.GetStatistics().BatchesRetried, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Shutdown_that_runs_out_of_time_is_logged_with_what_is_left()
    {
        var clock = new ShutdownClock(Harness.Time.GetUtcNow(), TimeSpan.FromSeconds(5));
        var pipeline = Create(o =>
        {
            o.TimeProvider = clock;
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            o.InstantEventTypes.Add("Click");
        });
        pipeline.Pause();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await pipeline.TrackAsync(SampleEvents.Click(1));

        var disposed = pipeline.DisposeAsync().AsTask();
        await clock.ShutdownTimerCreated.WaitAsync(Harness.Guard);
        clock.Advance(TimeSpan.FromSeconds(5));
        await disposed.WaitAsync(Harness.Guard);
        Assert.That(Messages(7).Single(), Does.Contain("1 QoS1 events stay on disk").And.Contain("1 QoS0 events dropped"));
    }

    [Test]
    public async Task Full_disk_logs_the_failed_commit_the_failed_request_record_and_the_reopen()
    {
        var files = new FaultyFileSystem();
        var pipeline = Create(hooks: new() { FileSystem = files });
        pipeline.Pause();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        files.DiskFull = true;
        await Assert.ThrowsAsync<ClickstreamStorageException>(async () => await pipeline.TrackAsync(SampleEvents.PageView(2)));
        Assert.That(Messages(3).Single(), Does.Contain("Committing 1 QoS1 events to the store failed"));

        // The batch's request record cannot be written either.
        pipeline.Resume();
        var flush = pipeline.FlushAsync(Harness.Guard);
        await Harness.WaitAsync(pipeline, s => s.BatchesFailed >= 1);
        Assert.That(Messages(4), Is.Not.Empty);

        files.DiskFull = false;
        await DeliverAsync(pipeline, flush);
        Assert.That(Messages(42), Is.Not.Empty);
        await pipeline.DisposeAsync();

        // The failed database must not be left to LiteDB's finalizers (see LiteDbFinalizers).
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Test]
    public async Task Corrupt_store_moved_aside_is_logged()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Harness.Folder.StorePath)!);
        await File.WriteAllBytesAsync(Harness.Folder.StorePath, Enumerable.Repeat((byte)0x5A, 16_384).ToArray());
        var pipeline = Create();
        Assert.That(pipeline.GetStatistics().StoreFilesMovedAside, Is.EqualTo(1));
        Assert.That(Messages(41).Single(), Does.Contain("was moved aside to").And.Contain(".corrupt-"));
    }

    [Test]
    public async Task Store_file_whose_mode_cannot_be_set_is_logged_and_the_store_still_opens()
    {
        var first = Create();
        first.Pause();
        await first.TrackAsync(SampleEvents.PageView(1));
        await first.DisposeAsync();

        var files = new FaultyFileSystem { ModeChangeFails = true };
        await using var second = Create(hooks: new() { FileSystem = files });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Messages(45), Is.Not.Empty);
            Assert.That(Messages(45)[0], Does.Contain(Harness.Folder.StorePath).And.Contain("owner only"));
            Assert.That(second.GetStatistics().EventsRecovered, Is.EqualTo(1), "the store opens all the same");
        }
    }

    [Test]
    public async Task WebSocket_owner_callback_that_throws_when_the_connection_ends_is_logged()
    {
        var settings = PipelineSettings.Create(Harness.Options(o =>
        {
            o.Transport = ClickstreamTransport.WebSocket;
            o.Endpoint = Harness.Endpoint(ClickstreamTransport.WebSocket);
        }));
        var (connection, failure) = await WebSocketConnection.ConnectAsync(
            settings, _logs.CreateLogger("websocket"), (_, _, _) => throw new InvalidOperationException("owner broke"), Harness.Guard);
        Assert.That(connection, Is.Not.Null, failure.Detail);
        connection!.StartReceiving();

        // The server drops the connection: the receive loop ends it, and the owner's callback throws.
        var logged = _logs.WaitForAsync(26, Harness.Guard);
        Harness.Collector.Faults.DropWebSocketConnections();
        await logged;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(connection.HasEnded, Is.True);
            Assert.That(Messages(26).Single(), Does.Contain("connection end"));
        }
    }

    [Test]
    public async Task WebSocket_connection_unmatched_and_unreadable_answers_are_logged()
    {
        Harness.Transport = ClickstreamTransport.WebSocket;
        var pipeline = Create(o => o.Headers["X-User-ID"] = "user-1");
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(Messages(20).First(), Does.Contain(Harness.Collector.WebSocketEndpoint.ToString()));

        Harness.Collector.Faults.RespondWithWrongRequestGuid = true;
        await pipeline.TrackAsync(SampleEvents.PageView(2));
        var flush = pipeline.FlushAsync(Harness.Guard);
        await _logs.WaitForAsync(24, Harness.Guard);
        Harness.Collector.Faults.RespondWithWrongRequestGuid = false;

        Harness.Collector.Faults.FailNext(1, Fault.MalformedResponse);
        await pipeline.TrackAsync(SampleEvents.PageView(3));
        await _logs.WaitForAsync(25, Harness.Guard);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Messages(24), Is.Not.Empty);
            Assert.That(Messages(25), Is.Not.Empty);
        }

        // The unanswered batches time out and are sent again.
        await DeliverAsync(pipeline, flush);
    }

    [Test]
    public async Task No_log_message_or_value_holds_an_event_payload()
    {
        // A payload with a text no log could hold by chance, through failures, a dead letter, a full disk and shutdown.
        const string Secret = "SECRET-PAYLOAD-7f3a9c";
        var poison = SampleEvents.PageView(99);
        poison.PageUrl = Secret + "/poison";
        var files = new FaultyFileSystem();
        Harness.Collector.Faults.FailNext(1, 500);
        var pipeline = Create(
            o =>
            {
                o.InstantEventTypes.Add("Click");
                o.ShutdownTimeout = TimeSpan.Zero;
            },
            settings => new RefusingTransport(new HttpTransport(settings, json: false), PipelineHarness.Payload(poison)),
            new() { FileSystem = files });
        for (var i = 0; i < 4; i++)
        {
            var view = SampleEvents.PageView(i);
            view.PageUrl = Secret + "/" + i;
            await pipeline.TrackAsync(view);
        }

        await pipeline.TrackAsync(poison);
        var click = SampleEvents.Click(1);
        click.ElementId = Secret;
        await pipeline.TrackAsync(click);
        await DeliverAsync(pipeline);

        files.DiskFull = true;
        await Assert.ThrowsAsync<ClickstreamStorageException>(async () => await pipeline.TrackAsync(poison));
        files.DiskFull = false;
        await pipeline.DisposeAsync();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        var payloads = new[] { Secret, Convert.ToBase64String(poison.ToByteArray()), Convert.ToHexString(poison.ToByteArray()) };
        var entries = _logs.Entries;
        Assert.That(entries.Select(e => e.EventId), Does.Contain(2).And.Contain(9).And.Contain(3), "the failure paths ran");
        foreach (var entry in entries)
        {
            var values = (entry.State ?? []).Select(kv => Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty);
            foreach (var text in values.Append(entry.Message))
            {
                Assert.That(payloads.Any(text.Contains), Is.False, $"log event {entry.EventId}: {text}");
            }
        }
    }

    /// <summary>Flushes, stepping the clock past each retry delay and ack timeout until everything is delivered.</summary>
    private async Task DeliverAsync(ClickstreamPipeline pipeline, Task? flush = null)
    {
        flush ??= pipeline.FlushAsync(Harness.Guard);
        while (!flush.IsCompleted)
        {
            var before = pipeline.GetStatistics();
            Harness.Time.Advance(TimeSpan.FromSeconds(10));
            await Task.WhenAny(flush, Harness.WaitAsync(pipeline, s => s.BatchesAcknowledged > before.BatchesAcknowledged || s.BatchesFailed > before.BatchesFailed));
        }

        await flush;
    }

    /// <summary>Throws from every send, as a bug in a transport would.</summary>
    private sealed class ThrowingTransport : IEventTransport
    {
        public Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("transport bug");

        public void Dispose()
        {
        }
    }

    /// <summary>A fake clock that tells when the shutdown's time budget (a timer of exactly that length) is armed.</summary>
    private sealed class ShutdownClock(DateTimeOffset start, TimeSpan shutdownTimeout) : FakeTimeProvider(start)
    {
        private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ShutdownTimerCreated => _created.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime == shutdownTimeout)
            {
                _created.TrySetResult();
            }

            return timer;
        }
    }
}
