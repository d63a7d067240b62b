using System.Globalization;

namespace Clickstream.Cli.CommandLine;

/// <summary>
/// A command's options, parsed against the options it declares. Deliberately small: long options only,
/// <c>--name value</c> or <c>--name=value</c>, flags without a value, no positional arguments.
/// </summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, string?> _values;

    private ParsedArguments(Dictionary<string, string?> values, bool helpRequested)
    {
        _values = values;
        HelpRequested = helpRequested;
    }

    /// <summary><c>-h</c> or <c>--help</c> was given.</summary>
    public bool HelpRequested { get; }

    /// <exception cref="UsageException">An unknown option, a positional argument, a repeated option or a missing value.</exception>
    public static ParsedArguments Parse(ReadOnlySpan<string> args, IReadOnlyList<CliOption> options)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var help = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new UsageException($"unexpected argument '{arg}'.");
            }

            var separator = arg.IndexOf('=', StringComparison.Ordinal);
            var name = separator < 0 ? arg[2..] : arg[2..separator];
            var option = Find(options, name)
                ?? throw new UsageException($"unknown option '--{name}'. Options: {string.Join(", ", Names(options))}.");

            string? value = null;
            if (option.IsFlag)
            {
                if (separator >= 0)
                {
                    throw new UsageException($"option '--{name}' takes no value.");
                }
            }
            else if (separator >= 0)
            {
                value = arg[(separator + 1)..];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"option '--{name}' needs a value ({option.Usage}).");
            }

            if (!values.TryAdd(name, value))
            {
                throw new UsageException($"option '--{name}' is given more than once.");
            }
        }

        return new ParsedArguments(values, help);
    }

    /// <summary>Whether a flag was given.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <exception cref="UsageException">The option is missing or empty.</exception>
    public string GetRequiredString(string name)
    {
        if (!_values.TryGetValue(name, out var text) || string.IsNullOrEmpty(text))
        {
            throw new UsageException($"option '--{name}' is required.");
        }

        return text;
    }

    /// <exception cref="UsageException">The option is missing or not an absolute URI.</exception>
    public Uri GetAbsoluteUri(string name)
    {
        var text = GetRequiredString(name);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new UsageException($"option '--{name}' must be an absolute URI; was '{text}'.");
        }

        return uri;
    }

    /// <exception cref="UsageException">The value is not one of <paramref name="choices"/>' names.</exception>
    public T GetChoice<T>(string name, T defaultValue, IReadOnlyDictionary<string, T> choices)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        if (text is null || !choices.TryGetValue(text, out var value))
        {
            throw new UsageException($"option '--{name}' must be one of {string.Join(", ", choices.Keys)}; was '{text}'.");
        }

        return value;
    }

    /// <exception cref="UsageException">The value is not an integer in [<paramref name="min"/>, <paramref name="max"/>].</exception>
    public int GetInt32(string name, int defaultValue, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        // Thousands separators and '_' are accepted so that 1,000,000 and 1_000_000 both read as written.
        var digits = text?.Replace("_", "", StringComparison.Ordinal);
        if (!int.TryParse(digits, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new UsageException($"option '--{name}' must be an integer from {min:N0} to {max:N0}; was '{text}'.");
        }

        return value;
    }

    /// <exception cref="UsageException">The value is not a number in [<paramref name="min"/>, <paramref name="max"/>].</exception>
    public double GetDouble(string name, double defaultValue, double min, double max)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value >= min && value <= max))
        {
            throw new UsageException($"option '--{name}' must be a number from {min} to {max}; was '{text}'.");
        }

        return value;
    }

    private static CliOption? Find(IReadOnlyList<CliOption> options, string name)
    {
        foreach (var option in options)
        {
            if (string.Equals(option.Name, name, StringComparison.Ordinal))
            {
                return option;
            }
        }

        return null;
    }

    private static IEnumerable<string> Names(IReadOnlyList<CliOption> options)
    {
        foreach (var option in options)
        {
            yield return "--" + option.Name;
        }

        yield return "--help";
    }
}
