using Spectre.Console.Cli;

namespace Clickstream.Cli.CommandLine;

/// <summary>What to add to Spectre.Console.Cli's own usage errors so that each names the option and the right help.</summary>
internal static class UsageHints
{
    private const string ConvertPrefix = "Failed to convert '";

    /// <summary>
    /// The option whose value did not convert (Spectre says only "Failed to convert 'abc' to Int32."), found in
    /// <paramref name="args"/> as the option before that value or the <c>--option=value</c> that holds it.
    /// </summary>
    public static string? OptionOfBadValue(CommandAppException exception, IEnumerable<string> args)
    {
        var message = exception.Message;
        if (!message.StartsWith(ConvertPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = message.IndexOf("' to ", ConvertPrefix.Length, StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }

        var value = message[ConvertPrefix.Length..end];
        string? previous = null;
        foreach (var arg in args)
        {
            if (arg == value && previous is not null && previous.StartsWith('-'))
            {
                return previous;
            }

            if (arg.StartsWith('-') && arg.EndsWith("=" + value, StringComparison.Ordinal))
            {
                return arg[..^(value.Length + 1)];
            }

            previous = arg;
        }

        return null;
    }

    /// <summary>The command the arguments name, or null when it is unknown (the general help is then the right one).</summary>
    public static string? CommandOf(CommandAppException exception, IEnumerable<string> args)
    {
        if (exception.Message.StartsWith("Unknown command", StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var arg in args)
        {
            if (!arg.StartsWith('-'))
            {
                return arg;
            }
        }

        return null;
    }
}
