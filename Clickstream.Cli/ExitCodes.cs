namespace Clickstream.Cli;

/// <summary>The process exit codes of every command (the README's "Command line" section lists them too).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The command ran and found a failure: events not delivered or acknowledged, a crash test (the test project's <c>crash-test</c>) that lost events.</summary>
    public const int Failure = 1;

    /// <summary>Unknown command, unknown option, or a bad option value (the message names the option): nothing was run.</summary>
    public const int Usage = 2;

    /// <summary>The endpoint (<c>load</c>) or the port (<c>collector</c>) could not be reached or listened on.</summary>
    public const int Unreachable = 3;

    /// <summary>The file (<c>inspect</c>) is missing, unreadable, or not a pipeline store.</summary>
    public const int BadFile = 4;

    /// <summary>Stopped by Ctrl+C or SIGTERM before the command finished (Spectre.Console.Cli's default, 128 + SIGINT).</summary>
    public const int Cancelled = 130;
}
