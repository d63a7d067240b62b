namespace Clickstream.Cli.CommandLine;

/// <summary>An option a command accepts: <c>--name value</c> (or <c>--name=value</c>), or a flag when <paramref name="ValueName"/> is null.</summary>
/// <param name="Name">The long name, without the leading dashes.</param>
/// <param name="ValueName">The placeholder of its value in the help, e.g. <c>N</c>; null for a flag.</param>
/// <param name="Description">The help text, including the default.</param>
internal sealed record CliOption(string Name, string? ValueName, string Description)
{
    public bool IsFlag => ValueName is null;

    public string Usage => IsFlag ? "--" + Name : $"--{Name} <{ValueName}>";
}
