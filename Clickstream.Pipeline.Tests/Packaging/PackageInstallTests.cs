using System.IO.Compression;
using Clickstream.Collector;
using Clickstream.Pipeline.Tests.Support;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Pipeline.Tests.Packaging;

/// <summary>
/// The NuGet package as a user gets it: packed from the library's build output into a temp feed, added with
/// <c>dotnet add package</c> to a fresh console project outside the repository, and run against a real collector.
/// </summary>
[NonParallelizable]
public class PackageInstallTests
{
    // A version of its own per run: the global package cache never holds a stale copy of it (and it is removed after).
    private readonly string _version = "0.1.0-test." + Guid.NewGuid().ToString("N")[..12];
    private TempFolder _folder = null!;
    private string _feed = null!;

    [OneTimeSetUp]
    public async Task Pack()
    {
        _folder = new TempFolder();
        _feed = Directory.CreateDirectory(Path.Combine(_folder.Path, "feed")).FullName;
        var project = Path.Combine(RepositoryRoot(), "Clickstream.Pipeline", "Clickstream.Pipeline.csproj");
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        // From the build this test run already made: no second build, nothing written under the repository's obj/ or bin/.
        await DotnetCli.RunAsync(
            _folder.Path,
            Timeouts.Guard(120),
            "pack", project, "--no-build", "-c", configuration, "-o", _feed,
            $"-p:Version={_version}", $"-p:NuspecOutputPath={Path.Combine(_folder.Path, "nuspec")}{Path.DirectorySeparatorChar}");
    }

    [OneTimeTearDown]
    public void RemoveFromCaches()
    {
        _folder.Dispose();
        var cached = Path.Combine(GlobalPackagesFolder(), "clickstream.pipeline", _version);
        if (Directory.Exists(cached))
        {
            Directory.Delete(cached, recursive: true);
        }
    }

    [Test]
    public void Package_has_metadata_readme_xml_docs_and_symbols()
    {
        using var package = ZipFile.OpenRead(Path.Combine(_feed, $"Clickstream.Pipeline.{_version}.nupkg"));
        var entries = package.Entries.Select(e => e.FullName).ToList();
        string nuspec;
        using (var reader = new StreamReader(package.GetEntry("Clickstream.Pipeline.nuspec")!.Open()))
        {
            nuspec = reader.ReadToEnd();
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(entries, Does.Contain("lib/net10.0/Clickstream.Pipeline.dll"));
            Assert.That(entries, Does.Contain("lib/net10.0/Clickstream.Pipeline.xml"));
            Assert.That(entries, Does.Contain("README.md"));
            Assert.That(nuspec, Does.Contain("<readme>README.md</readme>"));
            Assert.That(nuspec, Does.Contain("<license type=\"expression\">MIT</license>"));
            Assert.That(nuspec, Does.Contain("<authors>").And.Contain("<tags>").And.Contain("<description>"));
            Assert.That(nuspec, Does.Contain("<repository type=\"git\""), "SourceLink's repository commit");
            Assert.That(nuspec, Does.Not.Contain("Grpc.Tools").And.Not.Contain("PublicApiAnalyzers"), "build-only packages are not dependencies");
            Assert.That(File.Exists(Path.Combine(_feed, $"Clickstream.Pipeline.{_version}.snupkg")), "symbols package");
        }
    }

    [Test]
    public async Task Package_installs_into_a_new_console_project_that_delivers_to_the_collector()
    {
        await using var collector = await RaccoonCollector.StartAsync(cancellationToken: Timeouts.Guard());
        var app = Directory.CreateDirectory(Path.Combine(_folder.Path, "app")).FullName;
        var guard = Timeouts.Guard(240);

        await DotnetCli.RunAsync(app, guard, "new", "console", "--name", "PackageUser", "--output", app, "--no-restore");
        // The machine's sources stay (dependencies come from them or the global cache); the temp feed is added.
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="clickstream-test-feed" value="{_feed}" />
              </packageSources>
            </configuration>
            """, guard);
        await DotnetCli.RunAsync(app, guard, "add", "package", "Clickstream.Pipeline", "--version", _version);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using Clickstream.Pipeline;
            using Google.Protobuf.WellKnownTypes;

            await using var pipeline = ClickstreamPipeline.Create(new ClickstreamOptions
            {
                Endpoint = new Uri(args[0]),
                StoragePath = args[1],
                DetectNetworkChanges = false,
            });
            for (var i = 0; i < 25; i++)
            {
                await pipeline.TrackAsync(new StringValue { Value = $"event-{i}" });
            }

            await pipeline.FlushAsync();
            Console.WriteLine($"acknowledged {pipeline.GetStatistics().EventsAcknowledged}");
            """, guard);

        var output = await DotnetCli.RunAsync(app, guard, "run", "--", collector.EventsEndpoint.ToString(), Path.Combine(_folder.Path, "events.db"));

        var expected = Enumerable.Range(0, 25).Select(i => new StringValue { Value = $"event-{i}" }.ToByteString().ToBase64());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(output, Does.Contain("acknowledged 25"));
            Assert.That(collector.Stats.ReceivedEvents().Select(e => Convert.ToBase64String(e.Bytes)), Is.EquivalentTo(expected));
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Clickstream.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"Clickstream.sln not found above {AppContext.BaseDirectory}");
    }

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
