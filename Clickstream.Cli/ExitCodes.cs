namespace Clickstream.Cli;

/// <summary>The process exit codes of every command.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The command ran and found a failure (e.g. events not delivered), or was cancelled.</summary>
    public const int Failure = 1;

    /// <summary>Unknown command, unknown option or a bad option value: nothing was run.</summary>
    public const int Usage = 2;
}
