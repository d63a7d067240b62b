using System.Text.Json;
using System.Threading.Channels;
using Clickstream.Raccoon;

namespace Clickstream.Cli.Collector;

/// <summary>
/// Writes every event the collector accepts to a file, one JSON object per line:
/// <c>{"type":"pageview","event_bytes":"&lt;base64&gt;","req_guid":"...","time":"&lt;received, UTC ISO 8601&gt;"}</c>.
/// The collector's request threads only queue the request (<see cref="Add"/>); one task writes, so a slow disk
/// never holds up an answer. The queue is unbounded: a disk slower than the events grows memory, not latency.
/// </summary>
internal sealed class NdjsonWriter : IAsyncDisposable
{
    private readonly Channel<(SendEventRequest Request, DateTimeOffset Received)> _queue =
        Channel.CreateUnbounded<(SendEventRequest, DateTimeOffset)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly Task _writing;

    private NdjsonWriter(FileStream file, TimeProvider time)
    {
        _file = file;
        _time = time;
        _writing = Task.Run(WriteAsync);
    }

    /// <summary>Lines written so far.</summary>
    public long Lines { get; private set; }

    /// <summary>Creates (or truncates) <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be created.</exception>
    public static NdjsonWriter Create(string path, TimeProvider time) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024, useAsync: true), time);

    /// <summary>Queues the events of an accepted request (thread-safe, never blocks).</summary>
    public void Add(SendEventRequest request) => _queue.Writer.TryWrite((request, _time.GetUtcNow()));

    /// <summary>Writes what is queued, then closes the file. Call once the collector has stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writing;
        }
        finally
        {
            await _file.DisposeAsync();
        }
    }

    private async Task WriteAsync()
    {
        await using var json = new Utf8JsonWriter(_file);
        await foreach (var (request, received) in _queue.Reader.ReadAllAsync())
        {
            foreach (var e in request.Events)
            {
                json.WriteStartObject();
                json.WriteString("type", e.Type);
                json.WriteBase64String("event_bytes", e.EventBytes.Span);
                json.WriteString("req_guid", request.ReqGuid);
                json.WriteString("time", received);
                json.WriteEndObject();
                await json.FlushAsync();
                _file.WriteByte((byte)'\n');
                json.Reset();
                Lines++;
            }
        }

        await _file.FlushAsync();
    }
}
