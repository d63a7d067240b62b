using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>A logger factory that keeps every entry logged through it, to count log events by id or wait for one.</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly Lock _lock = new();
    private readonly List<(int EventId, TaskCompletionSource Logged)> _waiters = [];

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>How many entries have <paramref name="eventId"/>.</summary>
    public int Count(int eventId)
    {
        int count = 0;
        foreach (LogEntry entry in _entries)
        {
            if (entry.EventId == eventId)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Completes once an entry with <paramref name="eventId"/> was logged (at once if one was already).</summary>
    public Task WaitForAsync(int eventId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Count(eventId) > 0)
            {
                return Task.CompletedTask;
            }

            var logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((eventId, logged));
            return logged.Task.WaitAsync(cancellationToken);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Recorder(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private void Add(LogEntry entry)
    {
        lock (_lock)
        {
            _entries.Enqueue(entry);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].EventId == entry.EventId)
                {
                    _waiters[i].Logged.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private sealed class Recorder(RecordingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogEntry(eventId.Id, logLevel, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>>));
    }
}

/// <summary>One log entry: its event id, level, formatted message and structured state (the message's named values).</summary>
internal sealed record LogEntry(int EventId, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>>? State = null);
