namespace Clickstream.Pipeline;

/// <summary>
/// A QoS1 event could not be committed to the store (disk full, IO error, a closed store), or the store could
/// not be opened at all. The event was not stored and will not be sent; events committed earlier are not
/// affected. One exception: with <see cref="ClickstreamOptions.FlushCommitsToDisk"/>, when the commit succeeded
/// but the flush to the device failed, the message says so, and the event may still be sent.
/// </summary>
public sealed class ClickstreamStorageException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ClickstreamStorageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClickstreamStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ClickstreamStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
