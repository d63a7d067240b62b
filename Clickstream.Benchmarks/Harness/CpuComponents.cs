namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// The rules that turn one CPU sample's stack into "where the time goes": whether the sample was waiting (not CPU),
/// and which component it is charged to. Pure functions of frame names (<c>Namespace.Type.Method(...)</c>, or
/// <c>module!?</c> for a frame whose method is unknown), so that they can be checked without a trace
/// (<see cref="Check"/>); an unknown frame is never an error, it is passed over (or lands in <see cref="Other"/>).
/// </summary>
internal static class CpuComponents
{
    public const string Other = "other .NET (collections, text, runtime helpers)";
    public const string NoFrame = "(no managed frame)";

    /// <summary>
    /// Components by the namespace (or module) of a frame; a sample is charged to the first frame from the leaf that
    /// names one (so a component's share includes the framework code it calls), the more specific prefix first.
    /// </summary>
    private static readonly (string Prefix, string Component)[] Rules =
    [
        ("Google.Protobuf", Protobuf),
        ("Clickstream.Pipeline.Raccoon", Protobuf),
        ("Clickstream.Samples", Protobuf),
        ("LiteDB", "LiteDB (store)"),
        ("OpenTelemetry", "OpenTelemetry (batch processor, OTLP serializer and exporter)"),
        ("Microsoft.Extensions.Logging", "Microsoft.Extensions.Logging (ILogger.Log)"),
        ("Clickstream.Pipeline.Processing", "pipeline Processing (TrackAsync's processor, serialization into batches)"),
        ("Clickstream.Pipeline.Scheduling", "pipeline Scheduling (batch timing, retries)"),
        ("Clickstream.Pipeline.Egress", "pipeline Egress (requests in flight, acks)"),
        ("Clickstream.Pipeline.Storage", "pipeline Storage (QoS1 commits, read back, done marks)"),
        ("Clickstream.Pipeline.Transports", "pipeline Transports (request building, HTTP send)"),
        ("Clickstream.Pipeline", "pipeline API and diagnostics (TrackAsync, counters)"),
        ("System.Net.Http", "System.Net.Http (HttpClient, HTTP/1.1 connection)"),
        ("System.Net.Sockets", Sockets),
        ("System.Net.Security", Sockets),
        ("System.Net.Primitives", Sockets),
        ("System.Threading.Channels", "Channels and Dataflow (hand-offs between stages)"),
        ("System.Threading.Tasks.Dataflow", "Channels and Dataflow (hand-offs between stages)"),
        ("System.Threading.LowLevelSpinWaiter", "thread pool workers spinning for work before they block"),
        ("System.Threading.ThreadPool", ThreadPool),
        ("System.Threading.PortableThreadPool", ThreadPool),
        ("System.Threading.ThreadPoolWorkQueue", ThreadPool),
        ("System.Threading.LowLevelLifoSemaphore", ThreadPool),
        ("System.Threading.Tasks", ThreadPool),
        ("System.Runtime.CompilerServices.AsyncTaskMethodBuilder", ThreadPool),
        ("System.Runtime.CompilerServices.AsyncValueTaskMethodBuilder", ThreadPool),
        ("System.Runtime.CompilerServices.AsyncMethodBuilderCore", ThreadPool),
        ("System.Runtime.CompilerServices.TaskAwaiter", ThreadPool),
        ("System.Threading.ExecutionContext", ThreadPool),
        ("System.Threading.TimerQueue", ThreadPool),
        ("Clickstream.Benchmarks", "benchmark driver (calling loop, stub polling)"),
    ];

    private const string Protobuf = "protobuf serialization (Google.Protobuf, generated messages)";
    private const string Sockets = "System.Net.Sockets (socket calls, epoll dispatch)";
    private const string ThreadPool = "thread pool, tasks, async (dispatch and wake-ups)";

    /// <summary>
    /// The leaf frames of a thread that is blocked, not running: waits on a handle, a monitor, the thread pool's
    /// semaphore, the socket engine's epoll, a sleep. EventPipe walks managed frames only, so a waiting thread's leaf
    /// is the managed method that called into the wait.
    /// </summary>
    private static readonly string[] WaitFrames =
    [
        "System.Threading.Monitor.Wait",
        "System.Threading.Monitor.ObjWait",
        "System.Threading.WaitHandle.Wait",
        "System.Threading.WaitSubsystem",
        "System.Threading.LowLevelLifoSemaphore.Wait",
        "System.Threading.LowLevelMonitor.Wait",
        "System.Threading.LowLevelMonitor.TimedWait",
        "Interop+Sys.LowLevelMonitor_Wait",
        "Interop+Sys.LowLevelMonitor_TimedWait",
        "Interop+Sys.WaitForSocketEvents",
        "Interop+Sys.Poll",
        "System.Threading.Thread.Sleep",
        "System.Threading.Thread.Join",
        "System.Threading.Thread.SleepInternal",
    ];

    /// <summary>
    /// Callers whose native call (an unnamed P/Invoke stub or an <c>Interop</c> method at the leaf) is a wait: the
    /// socket engine's epoll loop, a console read (the child waiting for its "go").
    /// </summary>
    private static readonly string[] WaitingCallers =
    [
        "System.Net.Sockets.SocketAsyncEngine.EventLoop",
        "System.ConsolePal.Read",
    ];

    /// <summary>
    /// The frames a thread is caught in when it stops for a suspension (the sampler's own, or a GC's): the work is
    /// their caller's, so they are passed over (newer runtimes leave them out of the sampled stacks).
    /// </summary>
    private static readonly string[] GcPollFrames = ["System.Threading.Thread.PollGC", "System.Threading.Thread.<PollGC>"];

    /// <summary>The index of a stack's leaf: its first frame that is not a GC poll (<c>Count</c> when none).</summary>
    public static int LeafIndex(IReadOnlyList<string> framesFromLeaf)
    {
        var i = 0;
        while (i < framesFromLeaf.Count && StartsWithAny(framesFromLeaf[i], GcPollFrames))
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// Whether a sample counts as CPU. The runtime's sampler tags each thread sample <c>Managed</c> (the thread was in
    /// managed code, so on the CPU: PerfView and dotnet-trace count these as CPU_TIME) or <c>External</c> (in native
    /// code: a wait, a system call, a runtime helper; PerfView's UNMANAGED_CODE_TIME). An external sample counts
    /// unless its leaf is a wait, or a native call made by a caller that waits in it, or it has no managed frame at
    /// all (the runtime's own idle threads).
    /// </summary>
    public static bool IsCpu(bool managed, IReadOnlyList<string> framesFromLeaf)
    {
        if (managed)
        {
            return true;
        }

        var leaf = LeafIndex(framesFromLeaf);
        if (leaf >= framesFromLeaf.Count)
        {
            return false;
        }

        var frame = framesFromLeaf[leaf];
        if (StartsWithAny(frame, WaitFrames))
        {
            return false;
        }

        var nativeCall = frame == "?" || frame.StartsWith("Interop+", StringComparison.Ordinal);
        return !(nativeCall && leaf + 1 < framesFromLeaf.Count && StartsWithAny(framesFromLeaf[leaf + 1], WaitingCallers));
    }

    /// <summary>The component a sample is charged to; <paramref name="framesFromLeaf"/> runs from the leaf to the thread's root.</summary>
    public static string ComponentOf(IReadOnlyList<string> framesFromLeaf)
    {
        if (framesFromLeaf.Count == 0)
        {
            return NoFrame;
        }

        foreach (var frame in framesFromLeaf)
        {
            foreach (var (prefix, component) in Rules)
            {
                if (Matches(frame, prefix))
                {
                    return component;
                }
            }
        }

        return Other;
    }

    /// <summary>A method's name for the "top methods" table: without its parameter list.</summary>
    public static string MethodName(string frame)
    {
        var parameters = frame.IndexOf('(', StringComparison.Ordinal);
        return parameters > 0 ? frame[..parameters] : frame;
    }

    /// <summary>Sanity of the rules on frames as TraceLog names them; throws if one is broken (run before each summary).</summary>
    public static void Check()
    {
        Expect(ComponentOf(["System.Buffer.Memmove(uint8&,uint8&,unsigned int)", "Google.Protobuf.WritingPrimitives.WriteString(value class System.Span`1<unsigned int8>&,value class Google.Protobuf.WriterInternalState&,class System.String)", "Clickstream.Pipeline.Processing.EventProcessor.Serialize()"]) == Protobuf, "memmove under protobuf is protobuf");
        Expect(ComponentOf(["System.Threading.Channels.BoundedChannel`1+BoundedChannelWriter[System.__Canon].TryWrite(!0)", "Clickstream.Pipeline.ClickstreamPipeline.TrackAsync(class Google.Protobuf.IMessage)"]).StartsWith("Channels", StringComparison.Ordinal), "channel write is a hand-off");
        Expect(ComponentOf(["Clickstream.Pipeline.Egress.Sender+<SendAsync>d__4.MoveNext()", "System.Threading.ThreadPoolWorkQueue.Dispatch()"]).StartsWith("pipeline Egress", StringComparison.Ordinal), "the stage nearest the leaf wins over dispatch");
        Expect(ComponentOf(["Clickstream.PipelineX.Foo()"]) == Other, "a prefix matches whole names only");
        Expect(ComponentOf(["LiteDB!?"]) == "LiteDB (store)", "an unresolved frame is charged by its module");
        Expect(ComponentOf(["?", "", "System.String.Concat(class System.String,class System.String)"]) == Other, "unknown frames do not throw");
        Expect(ComponentOf([]) == NoFrame, "no frames");
        Expect(!IsCpu(false, ["System.Threading.LowLevelLifoSemaphore.WaitNative(int32)", "System.Threading.LowLevelLifoSemaphore.WaitForSignal(int32)"]), "an idle pool worker is waiting");
        Expect(!IsCpu(false, ["?", "System.Net.Sockets.SocketAsyncEngine.EventLoop()", "System.Threading.Thread.StartCallback()"]), "the epoll thread is waiting");
        Expect(!IsCpu(false, ["System.Threading.Monitor.Wait(class System.Object,int32)"]), "a monitor wait is waiting");
        Expect(!IsCpu(false, []), "a thread without managed frames is not charged");
        Expect(IsCpu(false, ["?", "System.Net.Sockets.SocketPal.TryCompleteSendTo()", "System.Net.Sockets.SocketAsyncContext.SendToAsync()"]), "a send call is CPU");
        Expect(IsCpu(true, ["System.Threading.Monitor.Wait(class System.Object,int32)"]), "a managed sample is CPU");
        Expect(LeafIndex(["System.Threading.Thread.<PollGC>g__PollGCWorker|67_0()", "System.Threading.Thread.PollGC()", "A.B()"]) == 2, "GC polls are passed over");
        Expect(MethodName("A.B.C(int32)") == "A.B.C" && MethodName("?") == "?", "method names lose their parameters");
    }

    private static void Expect(bool condition, string rule)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"CPU profile rule broken: {rule}.");
        }
    }

    private static bool StartsWithAny(string frame, string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (frame.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Matches(string frame, string prefix)
    {
        if (!frame.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        return frame.Length == prefix.Length || frame[prefix.Length] is '.' or '+' or '!' or '`' or '(';
    }
}
