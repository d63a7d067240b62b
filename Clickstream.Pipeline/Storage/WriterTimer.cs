namespace Clickstream.Pipeline.Storage;

/// <summary>
/// A periodic step of the writer thread (the log sync, the expiry): the timer only marks the step due and wakes
/// the writer, which runs it on its own thread, where the file may be touched, once it takes the mark
/// (<see cref="TakeDue"/>).
/// </summary>
internal sealed class WriterTimer : IDisposable
{
    private readonly StoreWriter _writer;
    private readonly Func<bool>? _needed;
    private readonly ITimer _timer;
    private volatile bool _due;

    /// <param name="writer">The writer to wake.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="period">How often the step is due.</param>
    /// <param name="needed">Whether the step has anything to do; null: always.</param>
    public WriterTimer(StoreWriter writer, TimeProvider timeProvider, TimeSpan period, Func<bool>? needed = null)
    {
        _writer = writer;
        _needed = needed;
        _timer = timeProvider.CreateTimer(static s => ((WriterTimer)s!).OnTick(), this, period, period);
    }

    /// <summary>Whether the step is due, clearing the mark: called by the writer thread before it runs the step.</summary>
    public bool TakeDue()
    {
        if (!_due)
        {
            return false;
        }

        _due = false;
        return true;
    }

    public void Dispose() => _timer.Dispose();

    private void OnTick()
    {
        if (_writer.IsStopping || (_needed is not null && !_needed()))
        {
            return;
        }

        _due = true;
        try
        {
            _writer.Wake();
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the wake.
        }
    }
}
