using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// Runs one <c>crash-child</c> as a separate OS process (<c>dotnet Clickstream.Pipeline.Tests.dll crash-child ...</c>, the
/// already-built assembly, never <c>dotnet run</c>), reads its lines as they come and kills it with SIGKILL at
/// its <see cref="KillPoint"/>.
/// </summary>
internal static class ChildProcess
{
    private const int MaxStandardErrorChars = 8_000;

    /// <summary>
    /// Starts the child with <paramref name="arguments"/> (after <c>crash-child</c>), kills it at
    /// <paramref name="killAt"/> (or lets it exit by itself when null), reads its output to the end and waits
    /// for its exit.
    /// </summary>
    /// <exception cref="CrashHarnessException">The child could not start, or exited before its kill point.</exception>
    public static Task<ChildOutcome> RunAsync(string childAssembly, IReadOnlyList<string> arguments, KillPoint? killAt, CancellationToken cancellationToken) =>
        RunAsync(childAssembly, arguments, killAt, atKillPoint: null, cancellationToken);

    /// <summary>
    /// As <see cref="RunAsync(string, IReadOnlyList{string}, KillPoint?, CancellationToken)"/>, running
    /// <paramref name="atKillPoint"/> when the kill point is reached, while the child is still alive (e.g. to try
    /// what a second process can do beside it), and killing the child once it completed.
    /// </summary>
    /// <exception cref="CrashHarnessException">The child could not start, or exited before its kill point.</exception>
    public static async Task<ChildOutcome> RunAsync(
        string childAssembly, IReadOnlyList<string> arguments, KillPoint? killAt, Func<Task>? atKillPoint, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(childAssembly);
        info.ArgumentList.Add(CrashChildCommand.CommandName);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new CrashHarnessException($"Could not start {info.FileName} {childAssembly}.");
        var reader = new Reader(process, killAt, atKillPoint);
        try
        {
            // Standard input stays open (and unused) until the child is gone: the child takes its closing as
            // "the harness is gone" and exits rather than outliving it.
            var standardError = process.StandardError.ReadToEndAsync(cancellationToken);
            await reader.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            var outcome = new ChildOutcome(
                reader.Numbers,
                reader.NumbersBeforeKill ?? reader.Numbers.Count,
                reader.Killed,
                process.ExitCode,
                reader.Flushed,
                reader.PartialLineBytes,
                Tail(await standardError),
                reader.Evicted,
                reader.Compactions,
                reader.FailedWrites,
                reader.Migrations,
                reader.Opened);
            if (killAt is not null && !outcome.Killed)
            {
                throw new CrashHarnessException($"The child exited by itself (exit code {outcome.ExitCode}) before its kill point ({killAt}) after {outcome.Numbers.Count} events. Its standard error:\n{outcome.StandardError}");
            }

            return outcome;
        }
        finally
        {
            if (!process.HasExited)
            {
                // Cancelled or failed mid-way: never leave a child behind.
                Kill(process);
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            // SIGKILL on Linux and macOS: no handler, no finally, no flush runs in the child.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own in the meantime.
        }
    }

    /// <summary>The <c>dotnet</c> host: this process's own when it is one, else the SDK's, else the one on PATH.</summary>
    internal static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        var sdkHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(sdkHost) && File.Exists(sdkHost) ? sdkHost : "dotnet";
    }

    private static string Tail(string text) => text.Length <= MaxStandardErrorChars ? text : "..." + text[^MaxStandardErrorChars..];

    /// <summary>Splits the child's raw standard output into lines, and pulls the trigger at the kill point.</summary>
    private sealed class Reader(Process process, KillPoint? killAt, Func<Task>? atKillPoint)
    {
        private bool _killDue;

        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly List<byte> _partial = [];

        public List<int> Numbers { get; } = [];

        public int? NumbersBeforeKill { get; private set; }

        public bool Killed => NumbersBeforeKill is not null;

        public string? Flushed { get; private set; }

        public List<int> Evicted { get; } = [];

        public int Compactions { get; private set; }

        /// <summary>Migration transactions the child reported committed.</summary>
        public int Migrations { get; private set; }

        /// <summary>The child wrote <see cref="ChildLines.Ready"/>: its store opened (and any migration finished).</summary>
        public bool Opened { get; private set; }

        public int FailedWrites { get; private set; }

        public int PartialLineBytes => _partial.Count;

        public async Task ReadToEndAsync(CancellationToken cancellationToken)
        {
            var stream = process.StandardOutput.BaseStream;
            int read;
            while ((read = await stream.ReadAsync(_buffer, cancellationToken)) > 0)
            {
                var chunk = _buffer.AsSpan(0, read);
                int newline;
                while ((newline = chunk.IndexOf((byte)'\n')) >= 0)
                {
                    if (_partial.Count == 0)
                    {
                        OnLine(chunk[..newline]);
                    }
                    else
                    {
                        _partial.AddRange(chunk[..newline]);
                        OnLine(_partial.ToArray());
                        _partial.Clear();
                    }

                    chunk = chunk[(newline + 1)..];
                }

                _partial.AddRange(chunk);
                if (_killDue)
                {
                    // The child goes on meanwhile (it waits for its standard input to close once done).
                    _killDue = false;
                    await atKillPoint!();
                    Kill(process);
                }
            }

            // End of output: the child is dead or exited. Whatever was written before is counted, killed or not.
        }

        private void OnLine(ReadOnlySpan<byte> line)
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                Numbers.Add(number);
                if (killAt is { Phase: KillPhase.Tracking } point && Numbers.Count == point.Lines)
                {
                    KillNow();
                }

                return;
            }

            var text = Encoding.ASCII.GetString(line);
            switch (text)
            {
                case ChildLines.Ready when killAt?.Phase is KillPhase.Ready or KillPhase.Migrating:
                    // Migrating: the migration ended before the kill point; the kill lands as the pipeline starts.
                    Opened = true;
                    KillNow();
                    break;
                case ChildLines.Opening when killAt is { Phase: KillPhase.Opening } or { Phase: KillPhase.Migrating, Lines: 0 }:
                case ChildLines.Done when killAt is not null:
                    // Done: the range ran out before the kill point (it is sized so that it does not); kill anyway.
                    KillNow();
                    break;
                case ChildLines.Ready:
                    Opened = true;
                    break;
                case ChildLines.Migrated:
                    Migrations++;
                    if (killAt is { Phase: KillPhase.Migrating } migrating && Migrations == migrating.Lines)
                    {
                        KillNow();
                    }

                    break;
                case ChildLines.Compacted:
                    Compactions++;
                    break;
                case ChildLines.WriteFailed:
                    FailedWrites++;
                    break;
                default:
                    if (text.StartsWith(ChildLines.Flushed + " ", StringComparison.Ordinal))
                    {
                        Flushed = text[(ChildLines.Flushed.Length + 1)..];
                    }
                    else if (text.StartsWith(ChildLines.Evicted + " ", StringComparison.Ordinal)
                        && int.TryParse(text.AsSpan(ChildLines.Evicted.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var evicted))
                    {
                        Evicted.Add(evicted);
                    }

                    break;
            }
        }

        private void KillNow()
        {
            if (Killed)
            {
                return;
            }

            NumbersBeforeKill = Numbers.Count;
            if (atKillPoint is null)
            {
                Kill(process);
            }
            else
            {
                _killDue = true;
            }
        }
    }
}
