using Clickstream.Pipeline.Tests.Support;
using Clickstream.Samples;
using static Clickstream.Pipeline.ClickstreamHealthEventKind;

namespace Clickstream.Pipeline.Tests.EndToEnd;

/// <summary>
/// App code the pipeline calls (the health observer, the reachability signal, an HTTP handler on the probe) runs
/// outside every pipeline lock: it may call back into the pipeline, from its own thread or another, and wait; it may
/// throw. Delivery completes and nothing deadlocks. The callbacks bound their own waits, so a regression fails a test
/// instead of hanging it.
/// </summary>
public class AppCallbackTests : PipelineTestBase
{
    [Test]
    public async Task Observer_that_pauses_and_resumes_from_another_thread_and_waits_does_not_deadlock()
    {
        ClickstreamPipeline pipeline = null!;
        var calledBack = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new CallbackObserver(health =>
        {
            if (health.Kind == ConnectionFailed)
            {
                // Reported when the server is marked unreachable: another thread's call into the pipeline must get through.
                calledBack.TrySetResult(WaitFor(Task.Run(() =>
                {
                    pipeline.Pause();
                    pipeline.Resume();
                    _ = pipeline.GetStatistics();
                })));
            }
        });
        pipeline = Harness.CreateRetrying(o => o.HealthObserver = observer);

        await Harness.MakeUnreachableAsync(pipeline, PipelineHarness.RetryMax);
        var returned = await calledBack.Task.WaitAsync(Harness.Guard);
        await Harness.BringBackAsync(pipeline);
        await pipeline.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(returned, Is.True, "Pause and Resume from another thread returned while the observer waited");
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(5));
        }
    }

    [Test]
    public async Task Observer_that_tracks_and_flushes_on_its_own_thread_and_waits_does_not_deadlock()
    {
        ClickstreamPipeline pipeline = null!;
        var calledBack = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new CallbackObserver(health =>
        {
            if (health.Kind == BatchAcknowledged && !calledBack.Task.IsCompleted)
            {
                // On the observer's own thread: the flush waits for the very batch this event reports.
                pipeline.Pause();
                pipeline.Resume();
                var tracked = WaitFor(pipeline.TrackAsync(SampleEvents.PageView(100)).AsTask());
                calledBack.TrySetResult(tracked && WaitFor(pipeline.FlushAsync(Timeouts.Guard(10))));
            }
        });
        pipeline = Harness.CreateRetrying(o => o.HealthObserver = observer);

        await PipelineHarness.TrackAsync(pipeline, pageViews: 10);
        await pipeline.FlushAsync(Harness.Guard);
        var returned = await calledBack.Task.WaitAsync(Harness.Guard);
        await pipeline.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(returned, Is.True, "the observer's TrackAsync and FlushAsync completed");
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(11));
        }
    }

    [Test]
    public async Task Observer_that_hangs_holds_up_neither_delivery_nor_dispose_past_its_grace()
    {
        using var release = new ManualResetEventSlim();
        var observer = new CallbackObserver(_ => release.Wait(Timeouts.Guard()));
        var logs = new RecordingLoggerFactory();
        var pipeline = Harness.CreateRetrying(o =>
        {
            o.HealthObserver = observer;
            o.LoggerFactory = logs;
            o.TimeProvider = TimeProvider.System;
        });

        await PipelineHarness.TrackAsync(pipeline, pageViews: 10);
        await pipeline.FlushAsync(Harness.Guard);
        Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(10));

        await pipeline.DisposeAsync().AsTask().WaitAsync(Harness.Guard);
        release.Set();
        Assert.That(logs.Count(73), Is.EqualTo(1), "the hung observer is named at dispose");
    }

    [Test]
    public async Task Reachability_signal_that_throws_counts_as_reachable_and_delivery_goes_on()
    {
        var signal = new CallbackReachability(_ => throw new InvalidOperationException("app bug"));
        var logs = new RecordingLoggerFactory();
        var pipeline = Harness.CreateRetrying(o =>
        {
            o.Reachability = signal;
            o.LoggerFactory = logs;
        });

        await PipelineHarness.TrackAsync(pipeline, pageViews: 5);
        signal.RaiseChanged();
        await PipelineHarness.TrackAsync(pipeline, pageViews: 5);
        await pipeline.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(10));
            Assert.That(logs.Count(71), Is.EqualTo(1), "logged once");
        }
    }

    [Test]
    public async Task Reachability_signal_that_calls_back_into_the_pipeline_from_another_thread_does_not_deadlock()
    {
        ClickstreamPipeline? pipeline = null;
        var returns = new List<bool>();
        var reachable = true;
        var signal = new CallbackReachability(self =>
        {
            if (Volatile.Read(ref pipeline) is { } p)
            {
                // Read when the app raises Changed: the pipeline must not hold a lock the other thread needs.
                var returned = WaitFor(Task.Run(() =>
                {
                    p.Resume();
                    _ = p.GetStatistics();
                }));
                lock (returns)
                {
                    returns.Add(returned);
                }
            }

            return Volatile.Read(ref reachable);
        });
        pipeline = Harness.CreateRetrying(o => o.Reachability = signal);

        Volatile.Write(ref reachable, false);
        signal.RaiseChanged();
        await PipelineHarness.TrackAsync(pipeline, pageViews: 5);
        var held = pipeline.GetStatistics();
        Volatile.Write(ref reachable, true);
        signal.RaiseChanged();
        await pipeline.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(returns, Is.EqualTo(new[] { true, true }), "each call back returned while the signal waited");
            Assert.That(held.BatchesSent, Is.Zero, "held while the app said unreachable");
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(5));
        }
    }

    [Test]
    public async Task Probe_survives_an_app_handler_that_throws_on_ping_and_keeps_probing()
    {
        using var handler = new PingFaultHandler(failures: 2);
        var logs = new RecordingLoggerFactory();
        var pipeline = Harness.CreateRetrying(o =>
        {
            o.HttpMessageHandler = handler;
            o.LoggerFactory = logs;
        });

        await Harness.MakeUnreachableAsync(pipeline, PipelineHarness.RetryMax);
        await Harness.StartCollectorAgainAsync();
        for (var probe = 1; probe <= 2; probe++)
        {
            Harness.Time.Advance(PipelineHarness.RetryMax);
            await pipeline.Counters.WaitAsync(s => s.ReachabilityProbes == probe, Timeouts.Guard(15));
        }

        Harness.Time.Advance(PipelineHarness.RetryMax);
        await Harness.WaitAsync(pipeline, s => s.IsReachable);
        await pipeline.FlushAsync(Harness.Guard);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(handler.PingFailures, Is.EqualTo(2));
            Assert.That(pipeline.GetStatistics().ReachabilityProbes, Is.EqualTo(3));
            Assert.That(Harness.Collector.Stats.Events, Is.EqualTo(5));
            Assert.That(logs.Count(72), Is.EqualTo(1), "logged once per outage");
        }
    }

    /// <summary>Waits, bounded, for app code's call into the pipeline; false when it did not return (a deadlock).</summary>
    private static bool WaitFor(Task task)
    {
        try
        {
            task.Wait(Timeouts.Guard(10));
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (AggregateException ex) when (ex.InnerException is OperationCanceledException)
        {
            return false;
        }
    }

    private sealed class CallbackObserver(Action<ClickstreamHealthEvent> onNext) : IObserver<ClickstreamHealthEvent>
    {
        public void OnNext(ClickstreamHealthEvent value) => onNext(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }

    private sealed class CallbackReachability(Func<CallbackReachability, bool> isReachable) : IClickstreamReachability
    {
        public event EventHandler? Changed;

        public bool IsReachable => isReachable(this);

        public void RaiseChanged() => Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>An app handler with a bug on <c>/ping</c>: it throws there the first <c>failures</c> times.</summary>
    private sealed class PingFaultHandler(int failures) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _pingFailures;

        public int PingFailures => Volatile.Read(ref _pingFailures);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath == "/ping" && Interlocked.Increment(ref _pingFailures) <= failures)
            {
                throw new InvalidOperationException("app handler bug on /ping");
            }

            if (request.RequestUri!.AbsolutePath == "/ping")
            {
                Interlocked.Decrement(ref _pingFailures);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
