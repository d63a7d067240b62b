using System.Globalization;
using System.Text;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// The crash child's standard output: one ASCII line per fact, each written by one <c>write</c> call and so
/// whole in the pipe or not there at all (a pipe write below PIPE_BUF bytes is atomic, and SIGKILL cannot
/// split it). A number line is the proof that the event's <c>TrackAsync</c> completed; the words mark phases.
/// </summary>
internal sealed class ChildLines
{
    /// <summary>Written just before <c>ClickstreamPipeline.Create</c> (the store is opened and recovered).</summary>
    public const string Opening = "opening";

    /// <summary>Written once <c>Create</c> returned: the backlog of the earlier children is being sent.</summary>
    public const string Ready = "ready";

    /// <summary>Written when every number of the range was tracked; the child then waits for its standard input to close.</summary>
    public const string Done = "done";

    /// <summary>Written by <c>--flush</c> when <c>FlushAsync</c> completed, followed by a space and the events still on disk.</summary>
    public const string Flushed = "flushed";

    /// <summary>Written (with --rare-paths) before an event is evicted, followed by a space and its number (or <c>?</c>).</summary>
    public const string Evicted = "evicted";

    /// <summary>Written (with --rare-paths) after the store was compacted.</summary>
    public const string Compacted = "compacted";

    /// <summary>Written (with --migration-chunk) after each transaction of a legacy store's migration committed.</summary>
    public const string Migrated = "migrated";

    /// <summary>Written (with --fail-write-after) when the injected write failure is thrown.</summary>
    public const string WriteFailed = "write-failed";

    private readonly Lock _lock = new();
    private readonly Stream _output;
    private readonly byte[] _line = new byte[64];

    public ChildLines(Stream output) => _output = output;

    /// <summary>Writes <paramref name="number"/> as a line; returns once the line is in the pipe.</summary>
    public void WriteNumber(int number)
    {
        lock (_lock)
        {
            number.TryFormat(_line, out var length, provider: CultureInfo.InvariantCulture);
            WriteLine(length);
        }
    }

    /// <summary>Writes a phase word (and its detail) as a line.</summary>
    public void WriteWord(string word)
    {
        lock (_lock)
        {
            var length = Encoding.ASCII.GetBytes(word, _line);
            WriteLine(length);
        }
    }

    private void WriteLine(int length)
    {
        _line[length] = (byte)'\n';

        // One call, so one write(2) on Unix: the parent never sees half a line from a child killed mid-write.
        _output.Write(_line, 0, length + 1);
        _output.Flush();
    }
}
