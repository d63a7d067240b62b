namespace Clickstream.Pipeline.Storage;

/// <summary>
/// A store file as LiteDB sees it: a <see cref="FileStream"/> whose <see cref="Flush"/> and <see cref="SetLength"/>
/// reach the storage device before they return, so that every write LiteDB orders is durable in that order.
/// </summary>
/// <remarks>
/// LiteDB 5.0.21 wraps the streams it is given (<c>ConcurrentStream</c>), and its <c>FlushToDisk</c> of the
/// wrapper becomes a plain <see cref="Stream.Flush()"/> here. It flushes only where it needs the device:
/// <list type="bullet">
/// <item><c>DiskService.Initialize</c>: the first page of a new data file;</item>
/// <item><c>DiskService.WriteDataDisk</c>, from <c>WalIndexService.CheckpointInternal</c>: the log's committed
/// pages copied into the data file, just before <c>WalIndexService.Clear</c> empties the log
/// (<c>SetLength(0)</c>). The data file must be on the device before the log is emptied, else a power cut
/// loses both copies.</item>
/// </list>
/// It never flushes the log itself: <see cref="ClickstreamOptions.FlushCommitsToDisk"/> does, after a commit
/// (<see cref="StoreDatabase.FlushLogToDisk"/>). An emptied log is synced at once (<see cref="SetLength"/>): a
/// later checkpoint overwrites data pages, and an old log that a cut brought back would then be replayed over
/// them. Each sync costs one fsync per checkpoint (every 1,000 log pages, about 8 MiB), not per commit.
/// </remarks>
internal sealed class StoreStream(FileStream file) : Stream
{
    public override bool CanRead => file.CanRead;

    public override bool CanSeek => file.CanSeek;

    public override bool CanWrite => file.CanWrite;

    public override long Length => file.Length;

    public override long Position
    {
        get => file.Position;
        set => file.Position = value;
    }

    /// <summary>Syncs to the device: LiteDB calls it only where it needs durability (see the remarks).</summary>
    public override void Flush() => file.Flush(flushToDisk: true);

    /// <summary>Sets the length and syncs it (see the remarks: an emptied log must stay empty).</summary>
    public override void SetLength(long value)
    {
        file.SetLength(value);
        file.Flush(flushToDisk: true);
    }

    public override int Read(byte[] buffer, int offset, int count) => file.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => file.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);

    public override void Write(byte[] buffer, int offset, int count) => file.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => file.Write(buffer);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }
}
