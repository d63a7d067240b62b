using System.Runtime.InteropServices;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Opens the store's files. The store opens them itself and hands the streams to LiteDB, rather than letting
/// LiteDB open them by name, so that it decides how they are created (owner-only, unbuffered), can flush the
/// log to the device after a commit, and can close and open them again after an IO error. An internal seam:
/// a test substitutes streams that fail the way a full disk does.
/// </summary>
/// <remarks>
/// What reaches the device, and in which order, is decided here (<see cref="StoreStream"/>): LiteDB 5.0.21 wraps a
/// stream it is given in its own, whose flush to the device is a plain <see cref="Stream.Flush()"/>, so a
/// <see cref="FileStream"/> handed over as is would never be synced by LiteDB at all.
/// </remarks>
internal class StoreFileSystem
{
    /// <summary>Real files.</summary>
    public static StoreFileSystem Default { get; } = new();

    /// <summary>Readable and writable by the current user only, for every file the store creates.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Opens <paramref name="path"/> for reading and writing, creating it (owner-only) when it does not exist.</summary>
    public virtual Stream Open(string path) => new StoreStream(OpenOwnerOnly(path, FileShare.Read));

    /// <summary>
    /// Opens <paramref name="path"/> unbuffered for reading and writing, shared as <paramref name="share"/> says,
    /// creating it owner-only when it does not exist: the store's files and its lock file.
    /// </summary>
    public static FileStream OpenOwnerOnly(string path, FileShare share)
    {
        // Unbuffered: LiteDB writes whole pages and a commit must reach the OS before it returns, not sit in
        // a FileStream buffer that a killed process would lose.
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = share,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Applied at creation, so the file is never readable by others, not even for a moment. On Windows
            // the file inherits the ACL of its folder, by default the user's local application data.
            options.UnixCreateMode = OwnerOnly;
        }

        var created = !File.Exists(path);
        var file = new FileStream(path, options);
        if (created)
        {
            // The new file's name is in its folder's entries, which reach the device only when the folder is
            // synced: without it a power cut can take away a file whose content was synced.
            try
            {
                SyncFolderOf(path);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        return file;
    }

    /// <summary>
    /// Syncs the folder of <paramref name="path"/> to the device, so that the names created, renamed or removed in
    /// it survive power loss (a no-op on Windows, where NTFS journals them). Throws <see cref="IOException"/>.
    /// </summary>
    public static void SyncFolderOf(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        // .NET opens no handle on a folder, so libc's: open(O_RDONLY) works on a folder on Linux and macOS alike.
        var fd = Native.Open(folder, 0);
        if (fd < 0)
        {
            throw new IOException($"Could not open the folder {folder} to sync it: errno {Marshal.GetLastPInvokeError()}.");
        }

        try
        {
            // EINVAL: a file system that cannot sync a folder (some FUSE ones): nothing more can be done there.
            if (Native.FSync(fd) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != Native.EINVAL)
            {
                throw new IOException($"Could not sync the folder {folder} to the device: errno {errno}.");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>
    /// Makes an existing file owner-only when it is not (files of earlier versions were created with the default
    /// mode). Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when the OS refuses.
    /// </summary>
    public virtual void RestrictToOwner(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path))
        {
            return;
        }

        if ((File.GetUnixFileMode(path) & ~OwnerOnly) != 0)
        {
            File.SetUnixFileMode(path, OwnerOnly);
        }
    }

    /// <summary>Flushes what was written to <paramref name="stream"/> through to the storage device (fsync).</summary>
    public static void FlushToDisk(Stream stream)
    {
        if (stream is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
        else
        {
            // A StoreStream (or a test's wrapper over one): its Flush is the fsync.
            stream.Flush();
        }
    }

    private static class Native
    {
        public const int EINVAL = 22;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
