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

    /// <summary>Parent side: runs the child to its end and returns its measurement; <paramref name="onReady"/> is given the child's pid.</summary>
    public static async Task<Measurement> RunAsync(
        string contender, int events, StubAddresses stub, string? folder = null, Func<int, Task>? onReady = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

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
                    Console.WriteLine($"  [{contender}] {line}");
                }
            }

            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{contender} with {events} events did not finish within {timeout ?? TimeSpan.FromMinutes(10)}.");
        }

        // The parent checks the delivered count: a drain that did not finish is still a result to report.
        return measurement ?? throw new InvalidOperationException($"{contender} failed in its child process (exit code {process.ExitCode}).");
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
