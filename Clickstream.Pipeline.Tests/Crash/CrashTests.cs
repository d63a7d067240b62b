using Clickstream.Pipeline.Tests.Support;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// The crash proof: child processes (<c>crash-child</c>, this assembly run by <c>dotnet</c>) track numbered QoS1
/// events and print each number once its TrackAsync completed; each is killed with SIGKILL at a random point of its
/// work, the next one reopens the same store, and a last one flushes. Every printed number must reach the collector,
/// except those the children's stores printed as evicted: the children run with a small MaxStoredEvents, lowered
/// compaction thresholds and one injected write failure each, so that eviction, compaction and a failed write
/// happen among the kills.
/// The loop is <see cref="CrashHarness"/>, shared with <c>crash-test --kills 200</c> (see <see cref="Program"/>) for
/// long runs.
/// </summary>
/// <remarks>
/// No sleep and no timing assertion: each kill is triggered by the child's own output, and where it lands
/// (store open, group commit, send, ack, backlog re-send) depends on the scheduling of two processes. The seed
/// fixes the kill points; the moments differ from run to run, which is the point.
/// </remarks>
public class CrashTests
{
    [Category("Crash")]
    [TestCase(20, 1)]
    public async Task Children_killed_at_random_points_lose_no_QoS1_event_whose_TrackAsync_completed(int kills, int seed)
    {
        var settings = new CrashSettings { Kills = kills, Seed = seed };

        var report = await CrashHarness.RunAsync(settings, line => TestContext.Out.WriteLine(line), Timeouts.Guard(600));

        TestContext.Out.WriteLine(report.Summary());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Kills, Is.EqualTo(kills));
            Assert.That(report.ReportedEvents, Is.Positive);
            Assert.That(report.Lost, Is.Empty, report.DescribeLost());

            // At-least-once: a duplicate is an event the collector accepted whose delete a kill prevented, so at
            // most the requests in flight at each kill (CrashSettings.DuplicateBound explains the bound).
            Assert.That(report.Duplicates, Is.LessThanOrEqualTo(report.DuplicateBound));
            Assert.That(report.PendingAfterFlush, Is.Zero, "events left on disk after the final FlushAsync");
            Assert.That(report.Undecodable, Is.Zero, "received events that are not the children's numbered purchases");
            Assert.That(report.PartialLines, Is.Zero, "a child's output line cut in half");

            // The rare paths, each reached at least once (counted from the children's own lines).
            Assert.That(report.Evicted, Is.Positive, "events evicted by the store bound");
            Assert.That(report.Compactions, Is.Positive, "store compactions");
            Assert.That(report.FailedWrites, Is.Positive, "injected write failures");
        }
    }
}
