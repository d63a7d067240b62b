namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Opens the store's files. The store opens them itself and hands the streams to LiteDB, rather than letting
/// LiteDB open them by name, so that it decides how they are created (owner-only, unbuffered), can flush the
/// log to the device after a commit, and can close and open them again after an IO error. An internal seam:
/// a test substitutes streams that fail the way a full disk does.
/// </summary>
internal class StoreFileSystem
{
    /// <summary>Real files.</summary>
    public static StoreFileSystem Default { get; } = new();

    /// <summary>Readable and writable by the current user only, for every file the store creates.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Opens <paramref name="path"/> for reading and writing, creating it (owner-only) when it does not exist.</summary>
    public virtual Stream Open(string path) => OpenOwnerOnly(path, FileShare.Read);

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

        return new FileStream(path, options);
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
            stream.Flush();
        }
    }
}
