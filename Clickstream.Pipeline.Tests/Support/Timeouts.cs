namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// A guard against a hung test, not a wait: every await in a test is bounded by this token, which only
/// fires when something is broken.
/// </summary>
internal static class Timeouts
{
    public static CancellationToken Guard(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
