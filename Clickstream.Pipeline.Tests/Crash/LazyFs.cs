using System.Diagnostics;
using System.Globalization;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// LazyFS (dsrhaslab/lazyfs, a FUSE file system that keeps every unsynced write in its own cache and drops them
/// all on command, as a power cut does), built from the sources beside the repository
/// (<c>../shared/tools/lazyfs/build.sh</c>) into a cache folder, once.
/// </summary>
internal static class LazyFs
{
    /// <summary>Where the build script sits, relative to an ancestor folder of the repository.</summary>
    public static readonly string BuildScript = Path.Combine("shared", "tools", "lazyfs", "build.sh");

    /// <summary>Where the binary is built and kept between runs.</summary>
    public static string DefaultOutput => Path.Combine(Path.GetTempPath(), "clickstream-lazyfs");

    /// <summary>
    /// Why power cuts cannot run on this machine (no <c>/dev/fuse</c>, not root, not Linux), or null when they can.
    /// </summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "LazyFS needs Linux (FUSE).";
        }

        if (!File.Exists("/dev/fuse"))
        {
            return "LazyFS needs /dev/fuse, which this machine does not have.";
        }

        return Environment.UserName == "root" ? null : "LazyFS needs root (it installs its build packages and mounts with allow_other).";
    }

    /// <summary>
    /// The build script of the first ancestor of <paramref name="start"/> (or of the current folder and of this
    /// assembly's folder when null) that has <see cref="BuildScript"/>, or null.
    /// </summary>
    public static string? FindBuildScript(string? start = null)
    {
        string?[] starts = start is null ? [Environment.CurrentDirectory, AppContext.BaseDirectory] : [start];
        foreach (var from in starts)
        {
            for (var folder = from is null ? null : new DirectoryInfo(from); folder is not null; folder = folder.Parent)
            {
                var script = Path.Combine(folder.FullName, BuildScript);
                if (File.Exists(script))
                {
                    return script;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Builds LazyFS with <paramref name="script"/> into <paramref name="output"/> (a no-op once built; the script
    /// installs the Debian packages it needs) and returns the binary's path.
    /// </summary>
    /// <exception cref="CrashHarnessException">The build failed; the message holds the script's output.</exception>
    public static async Task<string> BuildAsync(string script, string output, CancellationToken cancellationToken)
    {
        var (exitCode, stdout, stderr) = await RunAsync("bash", [script, output], TimeSpan.FromMinutes(10), cancellationToken);
        var binary = stdout.Trim().Split('\n')[^1].Trim();
        if (exitCode != 0 || !File.Exists(binary))
        {
            throw new CrashHarnessException($"Building LazyFS with {script} failed (exit code {exitCode}):\n{stdout}\n{stderr}");
        }

        return binary;
    }

    /// <summary>Runs a program to its end with a time limit; returns its exit code and output.</summary>
    internal static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string program, IReadOnlyList<string> arguments, TimeSpan limit, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new CrashHarnessException($"Could not start {program}.");
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        guard.CancelAfter(limit);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(guard.Token);
            var error = process.StandardError.ReadToEndAsync(guard.Token);
            await process.WaitForExitAsync(guard.Token);
            return (process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CrashHarnessException(string.Create(CultureInfo.InvariantCulture, $"{program} {string.Join(' ', arguments)} did not finish within {limit}."));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
