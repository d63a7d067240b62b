namespace Clickstream.Pipeline.Tests.Support;

/// <summary>A fresh folder under the system temp folder, deleted on dispose: every test gets its own LiteDB file.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clickstream-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string StorePath => System.IO.Path.Combine(Path, "events.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a failed test: leave it to the OS's temp cleanup.
        }
    }
}
