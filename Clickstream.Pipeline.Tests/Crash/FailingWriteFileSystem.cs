using Clickstream.Pipeline.Storage;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// The crash child's store files with one injected write failure: once <see cref="Arm"/>ed, the
/// <c>n</c>-th write to any of them throws <c>IOException("No space left on device")</c> instead of writing, as a
/// full disk would, and the store takes its failure path (closed, reopened, the commit or ack failed) in the
/// middle of a run. Writes before it and after it go through.
/// </summary>
internal sealed class FailingWriteFileSystem(Action onFailure) : StoreFileSystem
{
    private long _writesLeft = long.MaxValue;

    /// <summary>The <paramref name="writes"/>-th write from now on fails.</summary>
    public void Arm(long writes) => Interlocked.Exchange(ref _writesLeft, writes);

    public override Stream Open(string path) => new FailingStream(this, base.Open(path));

    private bool FailsNow()
    {
        if (Interlocked.Decrement(ref _writesLeft) != 0)
        {
            return false;
        }

        onFailure();
        return true;
    }

    private sealed class FailingStream(FailingWriteFileSystem owner, Stream inner) : DelegatingStoreStream(inner)
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (owner.FailsNow())
            {
                throw new IOException("No space left on device (injected by the crash test)");
            }

            Inner.Write(buffer, offset, count);
        }
    }
}
