using Microsoft.Extensions.Logging;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// The crash child's log: warnings and errors, one line each, to standard error, which the harness keeps. When a
/// child finds its store damaged after a cut, the harness shows why from these lines.
/// </summary>
internal sealed class StandardErrorLogger : ILoggerFactory, ILogger
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = $"{logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)}";
        lock (_lock)
        {
            Console.Error.WriteLine(line);
        }
    }

    public void Dispose()
    {
    }
}
