using System.Runtime.CompilerServices;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Clickstream.Samples;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// The pipeline's life against the real collector when app code misbehaves: flushes in a loop while offline,
/// a send that ignores its token at dispose, an unbounded shutdown timeout, a constructor step that throws.
/// </summary>
public class LifecycleTests : PipelineTestBase
{
    [Test]
    public async Task Flushes_in_a_loop_while_paused_leave_a_bounded_number_of_epochs_and_a_later_flush_waits_for_its_events()
    {
        var pipeline = Harness.Create();
        pipeline.Pause();
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            for (var i = 0; i < 100_000; i++)
            {
                try
                {
                    await pipeline.FlushAsync(cancelled.Token);
                }
                catch (OperationCanceledException)
                {
                    // Cancelled by its token, as the app asked: delivery goes on.
                }
            }
        }

        // Committed only after the processor routed every marker before it: the count below is final.
        await pipeline.TrackAsync(SampleEvents.PageView(2));
        var epochs = pipeline.EpochsSealed;
        var flush = pipeline.FlushAsync(Harness.Guard);
        var whilePaused = flush.IsCompleted;
        pipeline.Resume();
        await flush;
        var delivered = Harness.Collector.Stats.Events;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(epochs, Is.LessThanOrEqualTo(2), "flushes with no event between them share one epoch");
            Assert.That(whilePaused, Is.False, "nothing can be delivered while paused");
            Assert.That(delivered, Is.EqualTo(2), "the flush completed once both events were delivered");
        }
    }

    [Test]
    public async Task Dispose_with_a_send_that_ignores_its_token_completes_within_the_shutdown_budget_and_keeps_the_event()
    {
        using var handler = new HangingHandler();
        var logs = new RecordingLoggerFactory();
        var pipeline = Harness.Create(o =>
        {
            o.TimeProvider = TimeProvider.System;
            o.HttpMessageHandler = handler;
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
            o.LoggerFactory = logs;
        });
        await pipeline.TrackAsync(SampleEvents.PageView(1));
        _ = pipeline.FlushAsync(CancellationToken.None);
        await handler.Entered.WaitAsync(Harness.Guard);

        await pipeline.DisposeAsync().AsTask().WaitAsync(Harness.Guard);
        var next = Harness.Create();
        await next.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(logs.Count(73), Is.Zero, "the egress gives a send up itself when shutdown cancels it (SendGuard): dispose had nothing left to abandon");
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(1), "the QoS1 event stayed on disk and went at the next start");
        }
    }

    [TestCase(-1)]
    [TestCase(long.MaxValue)]
    public async Task ShutdownTimeout_infinite_or_max_means_no_limit_and_dispose_delivers_everything(long ticks)
    {
        var timeout = ticks == -1 ? Timeout.InfiniteTimeSpan : TimeSpan.MaxValue;
        var pipeline = Harness.Create(o => o.ShutdownTimeout = timeout);
        await PipelineHarness.TrackAsync(pipeline, pageViews: 10);

        await pipeline.DisposeAsync().AsTask().WaitAsync(Harness.Guard);

        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(10));
    }

    [Test]
    public async Task Constructor_step_that_throws_releases_the_transport_and_leaves_the_store_openable_at_once()
    {
        var first = Harness.Create();
        await PipelineHarness.TrackAsync(first, pageViews: 3);
        first.Pause();
        await first.DisposeAsync();
        DisposeRecordingTransport? transport = null;

        var thrown = Assert.Throws<InvalidOperationException>(() => ClickstreamPipeline.Create(
            Harness.Options(o => o.Reachability = new ThrowingSubscribeReachability()),
            transportFactory: settings => transport = new DisposeRecordingTransport(new HttpTransport(settings, json: false))));
        var next = Harness.Create();
        await next.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(thrown!.Message, Does.Contain("subscribe"));
            Assert.That(transport!.Disposed, Is.True, "the transport made before the failing step is disposed");
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(3), "the next pipeline opened the store and sent its events");
        }
    }

    [Test]
    public void Constructor_step_that_throws_leaves_no_network_change_handler_holding_the_pipeline()
    {
        var signal = FailToCreate(Harness.Options(o =>
        {
            // Not loopback, so that the OS network-change event is subscribed before the app's signal throws.
            o.Endpoint = new Uri("http://collector.invalid:8080/api/v1/events");
            o.DetectNetworkChanges = true;
        }));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.That(signal.IsAlive, Is.False, "nothing static still reaches the failed pipeline's parts");
    }

    /// <summary>A weak reference to the app signal of a pipeline whose constructor threw; not inlined, so no local keeps it alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference FailToCreate(ClickstreamOptions options)
    {
        var signal = new ThrowingSubscribeReachability();
        options.Reachability = signal;
        Assert.Throws<InvalidOperationException>(() => ClickstreamPipeline.Create(options));
        options.Reachability = null;
        return new WeakReference(signal);
    }

    /// <summary>An app reachability signal whose event cannot be subscribed to (an app bug).</summary>
    private sealed class ThrowingSubscribeReachability : IClickstreamReachability
    {
        public bool IsReachable => true;

        public event EventHandler? Changed
        {
            add => throw new InvalidOperationException("cannot subscribe");
            remove { }
        }
    }

    private sealed class DisposeRecordingTransport(IEventTransport inner) : IEventTransport
    {
        public bool Disposed { get; private set; }

        public Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken) =>
            inner.SendAsync(requestGuid, events, cancellationToken);

        public void Dispose()
        {
            Disposed = true;
            inner.Dispose();
        }
    }

    /// <summary>An app handler that never answers a POST and ignores its cancellation token.</summary>
    private sealed class HangingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<HttpResponseMessage> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method != HttpMethod.Post)
            {
                return base.SendAsync(request, cancellationToken);
            }

            _entered.TrySetResult();
            return _never.Task;
        }
    }
}
