namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Passes every call to a store file opened by <see cref="StoreFileSystem.Open"/>, and disposes it with itself: the
/// base of the streams a <see cref="StoreFileSystem"/> substitute wraps the real files in (a write failure injected by
/// the crash test, a full disk in the tests), which override only the calls they make fail.
/// </summary>
internal abstract class DelegatingStoreStream : Stream
{
    protected DelegatingStoreStream(Stream inner) => Inner = inner;

    /// <summary>The real file.</summary>
    protected Stream Inner { get; }

    public override bool CanRead => Inner.CanRead;

    public override bool CanSeek => Inner.CanSeek;

    public override bool CanWrite => Inner.CanWrite;

    public override long Length => Inner.Length;

    public override long Position
    {
        get => Inner.Position;
        set => Inner.Position = value;
    }

    public override void Flush() => Inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => Inner.Read(buffer, offset, count);

    public override long Seek(long offset, SeekOrigin origin) => Inner.Seek(offset, origin);

    public override void SetLength(long value) => Inner.SetLength(value);

    public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
