namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>The crash test could not run as planned (a child failed to start or died on its own): not a verdict on delivery.</summary>
internal sealed class CrashHarnessException : Exception
{
    public CrashHarnessException()
    {
    }

    public CrashHarnessException(string message)
        : base(message)
    {
    }

    public CrashHarnessException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
