using System.ComponentModel;
using System.Globalization;

namespace Clickstream.Cli.CommandLine;

/// <summary>
/// Reads a count as written by people: <c>1,000,000</c> and <c>1_000_000</c> both read as a million.
/// Spectre.Console.Cli reports a value it cannot convert as a usage error naming the option.
/// </summary>
internal sealed class CountConverter : Int32Converter
{
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        if (value is string text)
        {
            var digits = text.Replace("_", "", StringComparison.Ordinal);
            if (int.TryParse(digits, NumberStyles.AllowThousands | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count))
            {
                return count;
            }

            throw new FormatException($"'{text}' is not a whole number.");
        }

        return base.ConvertFrom(context, culture, value);
    }
}
