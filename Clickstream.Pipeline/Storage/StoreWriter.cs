using System.Collections.Concurrent;
using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The store's one writer thread (LiteDB transactions belong to the thread that opened them) and its two queues:
/// QoS1 events (and flush markers) for the next group commit, and the egress's commands. Each wake runs the steps
/// in one order: group commit, commands, expiry, backlog read-back, log sync, compaction. Timers only mark their
/// step due and wake the thread (<see cref="WriterTimer"/>).
/// </summary>
internal sealed class StoreWriter(StoreContext context) : IDisposable
{
    private readonly ConcurrentQueue<EventEnvelope> _inserts = new();
    private readonly ConcurrentQueue<StoreCommand> _commands = new();
    private readonly SemaphoreSlim _wake = new(0);
    private Thread? _thread;
    private Steps? _steps;
    private WriterTimer? _expiryTimer;
    private WriterTimer? _syncTimer;
    private int _signaled;
    private volatile bool _stopping;

    /// <summary>Set by <see cref="Stop"/>: the writer commits what is queued and ends; nothing new is taken.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Starts the thread with its steps, and the timers of the log sync (<c>DiskSyncInterval</c>) and of the expiry.</summary>
    public void Start(GroupCommit commit, RequestLog requests, StoreBounds bounds, BacklogReader backlog, StoreCompaction compaction)
    {
        _steps = new Steps(commit, requests, bounds, backlog, compaction);

        // A background thread: the store must never keep the app's process alive.
        _thread = new Thread(Run) { IsBackground = true, Name = "Clickstream store writer" };
        _thread.Start();
        var options = context.Options;
        if (!options.FlushCommitsToDisk && options.DiskSyncInterval != Timeout.InfiniteTimeSpan)
        {
            _syncTimer = new WriterTimer(this, context.TimeProvider, options.DiskSyncInterval, () => commit.IsUnsynced);
        }

        if (context.Policy.HasTimeToLive)
        {
            _expiryTimer = new WriterTimer(this, context.TimeProvider, context.Policy.ExpiryCheckInterval);
        }

        Wake();
    }

    /// <summary>Queues a QoS1 event (or a flush marker) for the next group commit.</summary>
    public void Enqueue(EventEnvelope[] chunk)
    {
        foreach (var envelope in chunk)
        {
            _inserts.Enqueue(envelope);
        }

        Wake();
    }

    /// <summary>Queues a command for the next command transaction; its task completes once that commits (or fails).</summary>
    public Task Submit(StoreCommand command)
    {
        if (_stopping)
        {
            return Task.FromException(new ObjectDisposedException(nameof(EventStore)));
        }

        _commands.Enqueue(command);
        Wake();
        return command.Done.Task;
    }

    public void Wake()
    {
        // One release per batch of work, not per event: the writer resets the flag before it drains.
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Stops the timers and the thread after it has committed what was queued; fails what came after.</summary>
    public void Stop()
    {
        _stopping = true;
        _expiryTimer?.Dispose();
        _syncTimer?.Dispose();
        _wake.Release();
        _thread?.Join();
        FailQueued(new ObjectDisposedException(nameof(EventStore)));
    }

    /// <summary>Last, once the file and its lock are closed: a late <see cref="Wake"/> then throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => _wake.Dispose();

    private void Run()
    {
        var steps = _steps!;
        try
        {
            // What an earlier run left beyond the bounds goes before anything is read back.
            steps.Bounds.EvictExpired();
            steps.Bounds.EvictOverCapacity();
        }
        catch (Exception ex)
        {
            Log.StageFailed(context.Logger, "store writer", ex);
        }

        while (true)
        {
            _wake.Wait();
            Volatile.Write(ref _signaled, 0);
            try
            {
                steps.Commit.Drain(_inserts);
                steps.Requests.Drain(_commands);
                if (_expiryTimer?.TakeDue() == true)
                {
                    steps.Bounds.EvictExpired();
                }

                steps.Backlog.Load();
                if (_syncTimer?.TakeDue() == true)
                {
                    steps.Commit.SyncLog();
                }

                steps.Compaction.CompactIfMostlyFree();
            }
            catch (Exception ex)
            {
                // Every failure is handled inside the steps; this is the last guard of the thread.
                Log.StageFailed(context.Logger, "store writer", ex);
            }

            if (_stopping && _inserts.IsEmpty && _commands.IsEmpty)
            {
                return;
            }
        }
    }

    private void FailQueued(Exception exception)
    {
        while (_inserts.TryDequeue(out var e))
        {
            if (e.Marker is null)
            {
                e.SetFailed(exception);
            }
        }

        while (_commands.TryDequeue(out var command))
        {
            command.Done.TrySetException(exception);
        }
    }

    private sealed record Steps(GroupCommit Commit, RequestLog Requests, StoreBounds Bounds, BacklogReader Backlog, StoreCompaction Compaction);
}
