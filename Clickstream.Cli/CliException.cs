namespace Clickstream.Cli;

/// <summary>
/// A failure a command reports to the user as one line on standard error with its own exit code: an endpoint that
/// cannot be reached, a file that cannot be read. Not for bugs: those are reported with their stack trace.
/// </summary>
internal sealed class CliException : Exception
{
    public CliException()
        : this(ExitCodes.Failure, "The command failed.")
    {
    }

    public CliException(string message)
        : this(ExitCodes.Failure, message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Failure;
    }

    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>One of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; }
}
