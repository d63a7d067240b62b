using System.Globalization;
using System.Text;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// A LazyFS mount for the power-cut test: files written under <see cref="Folder"/> reach <see cref="BackingFolder"/>
/// only when synced (<c>fsync</c>, <c>fdatasync</c>), and <see cref="CutPowerAsync"/> drops everything unsynced,
/// which is what a power cut or an OS crash does to the writes a disk had not made durable yet.
/// </summary>
/// <remarks>
/// LazyFS takes commands on one FIFO and answers on another (<c>finished::clear-cache</c>). It opens the answer
/// FIFO for writing when it starts, which blocks until a reader opens it, and a write to it once the reader is
/// gone would kill it (SIGPIPE): the reader is opened right after the mount and held until the unmount.
/// </remarks>
internal sealed class LazyFsMount : IAsyncDisposable
{
    private const string ClearCache = "lazyfs::clear-cache";
    private const string ClearCacheDone = "finished::clear-cache";

    // LazyFS allocates its whole cache up front; a child writes a few MiB between two cuts.
    private const string CacheSize = "256mb";

    private const int MountAttempts = 3;

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string _commands;
    private readonly StreamReader _answers;
    private int _disposed;

    private LazyFsMount(string folder, string backingFolder, string commands, StreamReader answers)
    {
        Folder = folder;
        BackingFolder = backingFolder;
        _commands = commands;
        _answers = answers;
    }

    /// <summary>The mount point: the app's files go here.</summary>
    public string Folder { get; }

    /// <summary>The real folder under the mount: what the device holds.</summary>
    public string BackingFolder { get; }

    /// <summary>Power cuts so far.</summary>
    public int Cuts { get; private set; }

    /// <summary>Mounts LazyFS (<paramref name="binary"/>) over <c>mnt</c>, backed by <c>root</c>, both made in <paramref name="workFolder"/>.</summary>
    /// <exception cref="CrashHarnessException">LazyFS did not mount.</exception>
    public static async Task<LazyFsMount> MountAsync(string binary, string workFolder, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateDirectory(Path.Combine(workFolder, "mnt")).FullName;
        var backing = Directory.CreateDirectory(Path.Combine(workFolder, "root")).FullName;
        var commands = Path.Combine(workFolder, "faults.fifo");
        var answers = Path.Combine(workFolder, "faults-done.fifo");
        var config = Path.Combine(workFolder, "lazyfs.toml");

        // LazyFS 0.x takes a --config-path containing "-o" (any case) for a mount option and falls back to its default
        // config, then aborts at start: say so rather than fail three times in a row.
        if (config.Contains("-o", StringComparison.OrdinalIgnoreCase))
        {
            throw new CrashHarnessException($"LazyFS cannot take a config path containing \"-o\": {config}; set TMPDIR to a folder without it.");
        }
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            [faults]
            fifo_path="{commands}"
            fifo_path_completed="{answers}"
            [cache]
            apply_eviction=false
            [cache.simple]
            custom_size="{CacheSize}"
            blocks_per_page=1
            [filesystem]
            log_all_operations=false
            logfile="{Path.Combine(workFolder, "lazyfs.log")}"

            """), cancellationToken);

        // LazyFS daemonizes once the file system is mounted: its exit code 0 is the signal that it is. It has been
        // seen to abort at start (a config path with "-o" in it, refused above); tried again should it happen otherwise.
        for (var attempt = 1; ; attempt++)
        {
            var (exitCode, output, error) = await LazyFs.RunAsync(
                binary, [folder, "--config-path", config, "-o", "allow_other", "-o", "modules=subdir", "-o", "subdir=" + backing], CommandTimeout, cancellationToken);
            if (exitCode == 0 && IsMounted(folder))
            {
                break;
            }

            if (attempt == MountAttempts)
            {
                throw new CrashHarnessException($"LazyFS did not mount {folder} (exit code {exitCode}, attempt {attempt}):\n{output}\n{error}");
            }

            await UnmountAsync(folder);
        }

        try
        {
            // Blocks until LazyFS opens its end, which it does as it starts.
            var reader = await Task.Run(() => new StreamReader(new FileStream(answers, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1), Encoding.ASCII), cancellationToken)
                .WaitAsync(CommandTimeout, cancellationToken);
            return new LazyFsMount(folder, backing, commands, reader);
        }
        catch
        {
            await UnmountAsync(folder);
            throw;
        }
    }

    /// <summary>
    /// Drops every write not synced to the device, as a power cut does. Call it once the processes writing under
    /// the mount are dead (SIGKILL): their next start sees what the device held.
    /// </summary>
    public async Task CutPowerAsync(CancellationToken cancellationToken)
    {
        await using (var command = new FileStream(_commands, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1))
        {
            await command.WriteAsync(Encoding.ASCII.GetBytes(ClearCache + "\n"), cancellationToken);
        }

        var answer = await _answers.ReadLineAsync(cancellationToken).AsTask().WaitAsync(CommandTimeout, cancellationToken);
        if (answer != ClearCacheDone)
        {
            throw new CrashHarnessException($"LazyFS answered '{answer}' to {ClearCache} instead of '{ClearCacheDone}'.");
        }

        Cuts++;
    }

    /// <summary>Unmounts (lazily when the mount is still busy); never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnmountAsync(Folder);
        _answers.Dispose();
    }

    private static async Task UnmountAsync(string folder)
    {
        try
        {
            var (exitCode, _, _) = await LazyFs.RunAsync("fusermount3", ["-u", folder], CommandTimeout, CancellationToken.None);
            if (exitCode != 0 && IsMounted(folder))
            {
                // Busy (a process still has a file open): detach now, and the kernel ends it when they close.
                await LazyFs.RunAsync("fusermount3", ["-uz", folder], CommandTimeout, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is CrashHarnessException or System.ComponentModel.Win32Exception)
        {
            // Nothing else to try; the report names the folder.
        }
    }

    private static bool IsMounted(string folder)
    {
        foreach (var line in File.ReadLines("/proc/self/mounts"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 1 && fields[1] == folder)
            {
                return true;
            }
        }

        return false;
    }
}
