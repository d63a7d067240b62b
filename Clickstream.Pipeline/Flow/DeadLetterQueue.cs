using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Flow;

/// <summary>
/// The dead letters as the app sees them (<see cref="ClickstreamPipeline.GetDeadLetters"/>,
/// <see cref="ClickstreamPipeline.RequeueDeadLettersAsync"/>, <see cref="ClickstreamPipeline.DeleteDeadLettersAsync"/>):
/// read from the store, requeued through the head of the graph like tracked events, deleted by one store command.
/// </summary>
internal sealed class DeadLetterQueue
{
    // Dead letters requeued per round trip through the processor and the store.
    private const int RequeueChunk = 1024;

    private readonly EventStore _store;
    private readonly PipelineGraph _graph;
    private readonly EventTypeRegistry _types;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Serializes the requeues and deletions (not the reads): two requeues reading the same dead letters would each send them.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DeadLetterQueue(EventStore store, PipelineGraph graph, EventTypeRegistry types, TimeProvider time, ILogger logger)
    {
        _store = store;
        _graph = graph;
        _types = types;
        _time = time;
        _logger = logger;
    }

    /// <summary>The newest <paramref name="max"/> dead letters.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> Read(int max) => _store.ReadDeadLetters(max);

    /// <summary>Requeues the dead letters named by <paramref name="ids"/>, or all of them; returns how many were requeued.</summary>
    public async Task<int> RequeueAsync(long[]? ids, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var requeued = 0;
            var chunk = new List<EventEnvelope>(RequeueChunk);
            long after = 0;
            var offset = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                IReadOnlyList<ClickstreamDeadLetter> letters;
                if (ids is null)
                {
                    letters = _store.ReadDeadLettersAfter(after, RequeueChunk);
                    if (letters.Count == 0)
                    {
                        break;
                    }
                }
                else
                {
                    if (offset == ids.Length)
                    {
                        break;
                    }

                    var count = Math.Min(RequeueChunk, ids.Length - offset);
                    letters = _store.ReadDeadLetters(ids[offset..(offset + count)]);
                    offset += count;
                }

                // Through the processor like TrackAsync (new ids in order, the current delivery epoch), then the
                // store's group commit, which deletes each dead letter with the insert of its event and hands the
                // events to the scheduler within the memory budget. A chunk at a time bounds the memory they take.
                chunk.Clear();
                foreach (var letter in letters)
                {
                    var envelope = new EventEnvelope(_types.GetDurable(letter.Type), letter.EventBytes, cancellationToken) { DeadLetterId = letter.Id };
                    envelope.TimestampTicks = _time.GetUtcNow().UtcTicks;
                    if (!_graph.TryWrite(envelope))
                    {
                        throw new ObjectDisposedException(nameof(ClickstreamPipeline));
                    }

                    chunk.Add(envelope);
                    after = Math.Max(after, letter.Id);
                }

                foreach (var envelope in chunk)
                {
                    await new ValueTask(envelope, envelope.Version).ConfigureAwait(false);
                    requeued++;
                }
            }

            Log.DeadLettersRequeued(_logger, requeued);
            return requeued;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Deletes the dead letters named by <paramref name="ids"/>, or all of them, in one transaction; returns how many were deleted.</summary>
    public async Task<int> DeleteAsync(long[]? ids, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var deleted = await _store.DeleteDeadLettersAsync(ids).ConfigureAwait(false);
            Log.DeadLettersDeleted(_logger, deleted);
            return deleted;
        }
        finally
        {
            _gate.Release();
        }
    }
}
