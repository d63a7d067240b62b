namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The one-owner lock of a store: <c>&lt;StoragePath&gt;.lock</c>, held open with <see cref="FileShare.None"/> for the
/// pipeline's life. On Linux and macOS .NET takes it with <c>flock(LOCK_EX | LOCK_NB)</c>, which conflicts between two
/// open files whether they belong to one process or two, and which the OS drops when the holder dies, even by SIGKILL;
/// on Windows the share mode itself excludes every other opener. Two LiteDB engines on one file corrupt it, and two
/// pipelines on one store would each recover and send the other's events, so the second owner fails fast instead.
/// </summary>
/// <remarks>
/// A file of its own rather than the data file: the store's own files are reopened after an IO error and replaced by
/// a compaction's rename, which must not let the lock go for a moment, and <see cref="StoreInspector"/> copies them
/// (shared read) while a pipeline runs. The lock file is never deleted: deleting it would let a newcomer lock a new
/// file of the same name while another still holds the old one. On Unix, an app that sets .NET's
/// <c>System.IO.DisableFileLocking</c> switch turns the lock off with every other <see cref="FileShare"/> lock.
/// </remarks>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(FileStream file) => _file = file;

    /// <summary>The lock file of the store at <paramref name="storePath"/>.</summary>
    public static string PathOf(string storePath) => storePath + ".lock";

    /// <summary>Takes the lock of the store at <paramref name="storePath"/>, whose folder exists.</summary>
    /// <exception cref="ClickstreamStorageException">Another pipeline holds the store, or the lock file cannot be opened.</exception>
    public static StoreLock Acquire(string storePath)
    {
        try
        {
            return new StoreLock(StoreFileSystem.OpenOwnerOnly(PathOf(storePath), FileShare.None));
        }
        catch (IOException ex) when (IsHeldElsewhere(ex))
        {
            throw new ClickstreamStorageException(
                $"The store {storePath} ({nameof(ClickstreamOptions)}.{nameof(ClickstreamOptions.StoragePath)}) is in use: another pipeline, in this process or another process, holds its lock {PathOf(storePath)}. Give each pipeline its own StoragePath, or dispose the other pipeline first.",
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClickstreamStorageException(
                $"The store {storePath} ({nameof(ClickstreamOptions)}.{nameof(ClickstreamOptions.StoragePath)}) could not be locked: {ex.Message}",
                ex);
        }
    }

    /// <summary>Releases the lock (the OS does the same when the process dies).</summary>
    public void Dispose() => _file.Dispose();

    // Windows: ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION in the HRESULT. Unix: .NET puts flock's errno in the
    // HResult, EWOULDBLOCK, which is 11 on Linux and 35 on macOS and the BSDs.
    private static bool IsHeldElsewhere(IOException ex) =>
        OperatingSystem.IsWindows() ? (ex.HResult & 0xFFFF) is 32 or 33
        : ex.HResult == (OperatingSystem.IsLinux() ? 11 : 35);
}
