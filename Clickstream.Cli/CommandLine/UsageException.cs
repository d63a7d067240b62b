namespace Clickstream.Cli.CommandLine;

/// <summary>The command line is wrong (unknown option, missing or bad value): reported with exit code 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
