using System.Text.RegularExpressions;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Cli;

/// <summary>
/// Every error a user can reach in the image commands is one sentence: exit 125, "Error: ..." on stderr,
/// never a framework resource key (the NativeAOT build strips the framework's messages), a type name or a
/// stack trace, and nothing half-made left in the store.
/// </summary>
public sealed partial class BadInputTests : IDisposable
{
    [GeneratedRegex(@"\b[A-Z][A-Za-z]*_[A-Za-z_]*[a-z][A-Za-z_]*\b")]
    private static partial Regex ResourceKey();

    readonly string directory = Directory.CreateTempSubdirectory("moat-bad-").FullName;
    readonly MoatProcess moat;

    public BadInputTests() => moat = new MoatProcess(Path.Combine(directory, "store"));

    public void Dispose() => Tool.Run("rm", "-rf", directory);

    public static TheoryData<string, string[]> Cases()
    {
        var data = new TheoryData<string, string[]>
        {
            { "an empty file to import", ["import", "/dev/null", "x"] },
            { "a missing file to import", ["import", "/no/such/file.tar"] },
            { "a missing archive to load", ["load", "-i", "/no/such/archive.tar"] },
            { "a text file to load", ["load", "-i", "/etc/hostname"] },
            { "an unknown image", ["rmi", "nothing-here"] },
            { "an unknown image to save", ["save", "-o", "/tmp/moat-never-written.tar", "nothing-here"] },
            { "an unknown image to tag", ["tag", "nothing-here", "other"] },
            { "a bad reference", ["pull", "Not//Valid::ref"] },
            { "a bad platform", ["pull", "--platform", "nonsense", "127.0.0.1:1/x"] },
            { "nobody listening", ["pull", "--tls-verify=false", "127.0.0.1:1/x/y:1"] },
            { "TLS to a closed port", ["pull", "127.0.0.1:1/x/y:1"] },
            { "a missing registries.conf", ["--registries-conf", "/no/such/registries.conf", "pull", "x"] },
            { "a short name with no search registries", ["pull", "busybox"] },
            { "logout without login", ["logout", "127.0.0.1:1"] },
            { "an authfile that is not JSON", ["logout", "--authfile", "/etc/hostname", "127.0.0.1:1"] },
            { "an authfile that is a directory", ["logout", "--authfile", "/etc", "127.0.0.1:1"] },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailsWithOneSentence(string what, string[] arguments)
    {
        var result = moat.Run(arguments);
        // rmi goes on past one missing image and says so with 1, as docker and podman do.
        Assert.True(result.ExitCode == (arguments[0] == "rmi" ? 1 : 125), $"{what}: {result}");
        // A pull may have said what it was trying first; the failure is the one last line.
        var lines = result.Stderr.TrimEnd('\n').Split('\n');
        Assert.StartsWith("Error: ", lines[^1]);
        Assert.Single(lines, l => l.StartsWith("Error: ", StringComparison.Ordinal));
        Assert.True(ResourceKey().Matches(result.Stderr).Count == 0, $"{what}: a resource key in {result.Stderr}");
        Assert.DoesNotContain("Exception", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Empty(result.Stdout);
        Assert.False(File.Exists("/tmp/moat-never-written.tar"));
        Assert.Equal("", moat.Ok("images", "-q", "-a"));
    }
}
