using System.Collections.Concurrent;
using System.Diagnostics;
using Clickstream.Pipeline.Diagnostics;

namespace Clickstream.Pipeline.Tests.Diagnostics;

/// <summary>Records the <c>Clickstream.Pipeline</c> spans that stop, with a real <see cref="ActivityListener"/> sampling all data.</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanRecorder(int serverPort)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                // Only this test's collector: spans of other pipelines in the process are not ours.
                if (activity.GetTagItem("server.port") is int port && port == serverPort)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    public void Dispose() => _listener.Dispose();
}
