using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>A logger factory that keeps every entry logged through it, to count log events by id.</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

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

    public ILogger CreateLogger(string categoryName) => new Recorder(_entries);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Recorder(ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(eventId.Id, logLevel, formatter(state, exception)));
    }
}

internal sealed record LogEntry(int EventId, LogLevel Level, string Message);
