using Clickstream.Pipeline.Storage;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// Real files under streams that can be made to fail as a full disk does: while <see cref="DiskFull"/> is set,
/// every write and every growth throws <c>IOException("No space left on device")</c>; reads go on. Also counts
/// the flushes of each file, to see the fsync of <see cref="ClickstreamOptions.FlushCommitsToDisk"/>.
/// </summary>
internal sealed class FaultyFileSystem : StoreFileSystem
{
    private long _logFlushes;
    private long _dataFlushes;
    private volatile bool _diskFull;
    private volatile bool _openFails;
    private volatile bool _dataWritesFail;

    /// <summary>Writes fail from now on, in the streams already open and in those opened later.</summary>
    public bool DiskFull
    {
        get => _diskFull;
        set => _diskFull = value;
    }

    /// <summary>
    /// Writes to data files fail, those to write-ahead logs go on: a commit (written to the log) succeeds and the
    /// checkpoint after it (copying the log into the data file) fails.
    /// </summary>
    public bool DataWritesFail
    {
        get => _dataWritesFail;
        set => _dataWritesFail = value;
    }

    /// <summary>Opening a file fails, as an IO error would make it.</summary>
    public bool OpenFails
    {
        get => _openFails;
        set => _openFails = value;
    }

    /// <summary>The OS refuses to change a file's mode, as it does for a file owned by another user.</summary>
    public bool ModeChangeFails { get; set; }

    public override void RestrictToOwner(string path)
    {
        if (ModeChangeFails)
        {
            throw new UnauthorizedAccessException("Operation not permitted");
        }

        base.RestrictToOwner(path);
    }

    /// <summary>Flushes of a write-ahead log (<c>*-log.*</c>) to the device.</summary>
    public long LogFlushes => Interlocked.Read(ref _logFlushes);

    /// <summary>Flushes of a data file to the device.</summary>
    public long DataFlushes => Interlocked.Read(ref _dataFlushes);

    public override Stream Open(string path)
    {
        if (_openFails)
        {
            throw new IOException("Input/output error");
        }

        var isLog = Path.GetFileNameWithoutExtension(path).EndsWith("-log", StringComparison.Ordinal);
        return new FaultyStream(this, base.Open(path), isLog);
    }

    private sealed class FaultyStream(FaultyFileSystem owner, Stream inner, bool isLog) : DelegatingStoreStream(inner)
    {
        // The store's own stream (StoreStream) syncs to the device on Flush: counted here, then passed on.
        public override void Flush()
        {
            Interlocked.Increment(ref isLog ? ref owner._logFlushes : ref owner._dataFlushes);
            Inner.Flush();
        }

        public override void SetLength(long value)
        {
            if ((owner._diskFull || (!isLog && owner._dataWritesFail)) && value > Inner.Length)
            {
                throw DiskFullError();
            }

            Inner.SetLength(value);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (owner._diskFull || (!isLog && owner._dataWritesFail))
            {
                throw DiskFullError();
            }

            Inner.Write(buffer, offset, count);
        }

        private static IOException DiskFullError() => new("No space left on device");
    }
}
