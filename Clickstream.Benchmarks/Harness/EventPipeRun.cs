using Clickstream.Benchmarks.Support;
using Microsoft.Diagnostics.NETCore.Client;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// Runs a contender in its child process with an EventPipe session attached after the warm-up (the child waits for
/// it), the session's stream copied to a <c>.nettrace</c> file until the child exits and ends it.
/// </summary>
internal static class EventPipeRun
{
    /// <summary>Runs <paramref name="contender"/> under <paramref name="providers"/>; the trace is kept at <paramref name="tracePath"/>; <paramref name="folder"/> is the backlog's store for the drain.</summary>
    public static async Task<Measurement> RunAsync(
        string contender, int events, StubAddresses stub, string tracePath, IReadOnlyList<EventPipeProvider> providers, string? folder = null)
    {
        EventPipeSession? session = null;
        Task? copy = null;
        var measurement = await ChildProcess.RunAsync(contender, events, stub, folder, onReady: pid =>
        {
            session = new DiagnosticsClient(pid).StartEventPipeSession(providers, requestRundown: true);
            var file = File.Create(tracePath);
            copy = Task.Run(async () =>
            {
                await using (file)
                {
                    await session.EventStream.CopyToAsync(file);
                }
            });
            return Task.CompletedTask;
        });

        // The child has exited, which ends the session and its stream (after the rundown, which names the methods).
        if (copy is not null)
        {
            await copy.WaitAsync(TimeSpan.FromSeconds(60));
        }

        session?.Dispose();
        return measurement;
    }
}
