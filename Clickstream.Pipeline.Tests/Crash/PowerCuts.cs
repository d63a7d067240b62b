using System.Globalization;
using Clickstream.Cli;
using Spectre.Console;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary><c>crash-test --power-cuts</c>: finds (or builds) LazyFS, and reports what the cuts cost.</summary>
internal static class PowerCuts
{
    /// <summary>
    /// The LazyFS binary: <paramref name="binary"/> when given, else built (once, into <see cref="LazyFs.DefaultOutput"/>)
    /// from the build script found above the current folder.
    /// </summary>
    /// <exception cref="CliException">This machine cannot run LazyFS, or its build script is not found.</exception>
    public static async Task<string> LazyFsAsync(string? binary, CancellationToken cancellationToken)
    {
        if (LazyFs.WhyUnavailable() is { } why)
        {
            throw new CliException("--power-cuts: " + why);
        }

        if (binary is not null)
        {
            return Path.GetFullPath(binary);
        }

        var script = LazyFs.FindBuildScript()
            ?? throw new CliException($"--power-cuts: {LazyFs.BuildScript} was not found in a folder above {Environment.CurrentDirectory}; pass --lazyfs.");
        try
        {
            return await LazyFs.BuildAsync(script, LazyFs.DefaultOutput, cancellationToken);
        }
        catch (CrashHarnessException ex)
        {
            throw new CliException(ex.Message, ex);
        }
    }

    /// <summary>
    /// Writes the power-cut figures; returns whether the run passed: with <c>FlushCommitsToDisk</c> as the crash test
    /// does (nothing lost), without it when no cut cost a whole store (nothing moved aside, nothing left on disk).
    /// </summary>
    public static bool Write(IAnsiConsole console, CrashReport report)
    {
        var lostByRound = report.LostByRound();
        var most = 0;
        foreach (var lost in lostByRound.Values)
        {
            most = Math.Max(most, lost);
        }

        var option = report.Settings.FlushCommitsToDisk ? "on" : "off";
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"power cuts {report.PowerCuts} (FlushCommitsToDisk {option}): lost {report.Lost.Count:N0} of {report.ReportedEvents:N0} acknowledged; cuts that lost events {lostByRound.Count}, most lost by one cut {most:N0}, mean per cut {(report.PowerCuts == 0 ? 0 : (double)report.Lost.Count / report.PowerCuts):F1}; stores moved aside {report.StoresMovedAside}"));
        if (report.Settings.FlushCommitsToDisk)
        {
            return report.Passed;
        }

        var passed = report.StoresMovedAside == 0 && report.PendingAfterFlush == 0 && report.Undecodable == 0;
        console.MarkupLine(passed
            ? "[green]OK[/]: without FlushCommitsToDisk, no cut cost a whole store (losses above are the commits since the last sync)."
            : "[red]FAILED[/]: a store was moved aside or left undelivered events.");
        return passed;
    }
}
