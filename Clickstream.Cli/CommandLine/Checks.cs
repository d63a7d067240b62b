using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Clickstream.Cli.CommandLine;

/// <summary>
/// Collects what is wrong with a command's settings, each message naming its option, into one
/// <see cref="ValidationResult"/> (Spectre.Console.Cli then reports it as a usage error, exit code 2).
/// </summary>
internal sealed class Checks
{
    private readonly List<string> _errors = [];

    public Checks Range(string option, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            _errors.Add(string.Create(CultureInfo.InvariantCulture, $"{option} must be from {min:N0} to {max:N0}; was {value:N0}."));
        }

        return this;
    }

    public Checks Range(string option, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            _errors.Add(string.Create(CultureInfo.InvariantCulture, $"{option} must be a number from {min} to {max}; was {value}."));
        }

        return this;
    }

    public Checks That(bool valid, string message)
    {
        if (!valid)
        {
            _errors.Add(message);
        }

        return this;
    }

    public ValidationResult Result() => _errors.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(string.Join(" ", _errors));
}
