namespace Clickstream.Pipeline.Tests.Support;

/// <summary>A fresh <see cref="TempFolder"/> for every test, deleted after it.</summary>
public abstract class TempFolderTestBase
{
    private TempFolder? _folder;

    internal TempFolder Folder => _folder ?? throw new InvalidOperationException("The folder is created in SetUp.");

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void DeleteFolder() => _folder?.Dispose();
}
