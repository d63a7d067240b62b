using System.Diagnostics;
using System.Globalization;
using Clickstream.Benchmarks.Support;

namespace Clickstream.Benchmarks.Harness;

/// <summary>
/// Runs one contender in a child process of this program (<c>child &lt;contender&gt; &lt;events&gt; &lt;folder&gt;
/// &lt;go|wait&gt; &lt;stub addresses&gt;</c>), so that each measure has a process of its own: its allocations, its
/// collections, its working set. The child prints one <see cref="Measurement"/> line; with <c>wait</c> it first
/// prints <c>READY</c> and waits for a line on its standard input (a profiler attaches meanwhile).
/// </summary>
internal static class ChildProcess
{
    public const string Command = "child";
    private const string Ready = "READY";

    /// <summary>
    /// Parent side: runs the child to its end and returns its measurement; <paramref name="onReady"/> is given the child's
    /// pid. With <paramref name="assembly"/> (another build's <c>Clickstream.Benchmarks.dll</c>, a baseline) the child is
    /// that build's program instead of this one: the same protocol, its own pipeline.
    /// </summary>
    public static async Task<Measurement> RunAsync(
        string contender, int events, StubAddresses stub, string? folder = null, Func<int, Task>? onReady = null, TimeSpan? timeout = null, string? assembly = null)
    {
        var start = StartInfo(assembly);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        var name = assembly is null ? contender : "before " + contender;
        foreach (var argument in (string[])[Command, contender, events.ToString(CultureInfo.InvariantCulture), folder ?? "-", onReady is null ? "go" : "wait", .. stub.ToArguments()])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a child process.");
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(10));
        Measurement? measurement = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cancel.Token) is { } line)
            {
                if (line == Ready && onReady is not null)
                {
                    await onReady(process.Id);
                    await process.StandardInput.WriteLineAsync("go");
                    await process.StandardInput.FlushAsync(cancel.Token);
                }
                else if (Measurement.TryParse(line, out var parsed))
                {
                    measurement = parsed;
                }
                else
                {
                    Console.WriteLine($"  [{name}] {line}");
                }
            }

            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} with {events} events did not finish within {timeout ?? TimeSpan.FromMinutes(10)}.");
        }

        // The parent checks the delivered count: a drain that did not finish is still a result to report.
        return measurement is not null && measurement.Contender == contender
            ? measurement
            : throw new InvalidOperationException($"{name} failed in its child process {start.FileName} {string.Join(' ', start.ArgumentList)} (exit code {process.ExitCode}).");
    }

    /// <summary>
    /// Starts this program, or the program at <paramref name="assembly"/>: with the running host when it is <c>dotnet</c>
    /// (the running assembly is then its first argument), with <c>dotnet</c> for another build (its apphost may be absent).
    /// </summary>
    public static ProcessStartInfo StartInfo(string? assembly = null)
    {
        var host = Environment.ProcessPath!;
        var hostIsDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        var start = new ProcessStartInfo(assembly is null || hostIsDotnet ? host : "dotnet") { UseShellExecute = false };
        if (assembly is not null || hostIsDotnet)
        {
            start.ArgumentList.Add(assembly ?? typeof(ChildProcess).Assembly.Location);
        }

        return start;
    }

    /// <summary>Child side: <c>args</c> without the leading <see cref="Command"/>.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        var contender = args[0];
        var events = int.Parse(args[1], CultureInfo.InvariantCulture);
        var folder = args[2];
        var wait = args[3] == "wait";
        if (!StubAddresses.TryParse(args[4..], out var stub))
        {
            Console.Error.WriteLine("child: bad stub addresses");
            return 2;
        }

        async Task BeforeMeasuring()
        {
            if (wait)
            {
                Console.WriteLine(Ready);
                await Console.In.ReadLineAsync();
            }
        }

        // The drain has no warm-up: a profiler attaches before the store is opened.
        async Task<Measurement> DrainAsync()
        {
            await BeforeMeasuring();
            return await BacklogDrain.DrainAsync(events, folder, stub);
        }

        var measurement = contender switch
        {
            Contenders.BacklogWrite => await BacklogDrain.WriteAsync(events, folder, stub),
            Contenders.BacklogDrain => await DrainAsync(),
            _ => await DeliveryRuns.RunAsync(contender, events, stub, BeforeMeasuring),
        };
        Console.WriteLine(measurement.Format());
        return 0;
    }
}
