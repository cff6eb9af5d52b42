using Moat.Runtime;
using Moat.Runtime.Init;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class ExecutableLookupTests
{
    sealed class FakeFiles(params string[] executables)
    {
        readonly HashSet<string> files = new(executables, StringComparer.Ordinal);
        public List<string> Asked { get; } = [];

        public bool IsExecutable(string path)
        {
            Asked.Add(path);
            return files.Contains(path);
        }
    }

    [Fact]
    public void SearchesThePathFromTheEnvironmentInOrder()
    {
        var fs = new FakeFiles("/opt/bin/tool", "/usr/bin/tool");

        var found = ExecutableLookup.Resolve("tool", ["HOME=/root", "PATH=/sbin:/usr/bin:/opt/bin"], fs.IsExecutable);

        Assert.Equal("/usr/bin/tool", found);
        Assert.Equal(["/sbin/tool", "/usr/bin/tool"], fs.Asked);
    }

    [Fact]
    public void TheLastPathVariableWins()
    {
        var fs = new FakeFiles("/first/tool", "/second/tool");

        var found = ExecutableLookup.Resolve("tool", ["PATH=/first", "TERM=xterm", "PATH=/second"], fs.IsExecutable);

        Assert.Equal("/second/tool", found);
    }

    [Fact]
    public void APathPrefixIsNotThePathVariable()
    {
        var fs = new FakeFiles("/elsewhere/tool", "/usr/bin/tool");

        var found = ExecutableLookup.Resolve("tool", ["PATHX=/elsewhere", "MYPATH=/elsewhere"], fs.IsExecutable);

        Assert.Equal("/usr/bin/tool", found);
    }

    [Fact]
    public void WithoutPathTheDefaultIsSearched()
    {
        var fs = new FakeFiles("/bin/sh");

        Assert.Equal("/bin/sh", ExecutableLookup.Resolve("sh", ["TERM=xterm"], fs.IsExecutable));
        Assert.Equal(
            ["/usr/local/sbin/sh", "/usr/local/bin/sh", "/usr/sbin/sh", "/usr/bin/sh", "/sbin/sh", "/bin/sh"],
            fs.Asked);
    }

    [Fact]
    public void NullEnvironmentUsesTheDefaultPath()
    {
        var fs = new FakeFiles("/usr/sbin/ip");

        Assert.Equal("/usr/sbin/ip", ExecutableLookup.Resolve("ip", null, fs.IsExecutable));
    }

    [Fact]
    public void AbsolutePathIsUsedAsItIs()
    {
        var fs = new FakeFiles("/app/server");

        Assert.Equal("/app/server", ExecutableLookup.Resolve("/app/server", ["PATH=/usr/bin"], fs.IsExecutable));
        Assert.Equal(["/app/server"], fs.Asked);
    }

    [Theory]
    [InlineData("./run.sh")]
    [InlineData("scripts/run.sh")]
    public void RelativePathWithASlashIsNotSearched(string file)
    {
        var fs = new FakeFiles(file, "/usr/bin/" + file);

        Assert.Equal(file, ExecutableLookup.Resolve(file, ["PATH=/usr/bin"], fs.IsExecutable));
        Assert.Equal([file], fs.Asked);
    }

    [Fact]
    public void MissingPathWithASlashFails()
    {
        var fs = new FakeFiles();

        var e = Assert.Throws<RuntimeException>(() => ExecutableLookup.Resolve("/no/such", null, fs.IsExecutable));

        Assert.Contains("\"/no/such\"", e.Message);
    }

    [Fact]
    public void EmptyPathElementMeansTheCurrentDirectory()
    {
        var fs = new FakeFiles("./tool");

        Assert.Equal("./tool", ExecutableLookup.Resolve("tool", ["PATH=/usr/bin::/bin"], fs.IsExecutable));
        Assert.Equal(["/usr/bin/tool", "./tool"], fs.Asked);
    }

    [Fact]
    public void EmptyPathVariableMeansTheCurrentDirectory()
    {
        var fs = new FakeFiles("./tool");

        Assert.Equal("./tool", ExecutableLookup.Resolve("tool", ["PATH="], fs.IsExecutable));
    }

    [Fact]
    public void TrailingSlashesInPathElementsAreTrimmed()
    {
        var fs = new FakeFiles("/opt/bin/tool");

        Assert.Equal("/opt/bin/tool", ExecutableLookup.Resolve("tool", ["PATH=/opt/bin/"], fs.IsExecutable));
    }

    [Fact]
    public void NotFoundGivesTheExecvpMessage()
    {
        var fs = new FakeFiles("/usr/bin/other");

        var e = Assert.Throws<RuntimeException>(() => ExecutableLookup.Resolve("x", ["PATH=/usr/bin:/bin"], fs.IsExecutable));

        Assert.Equal("exec: \"x\": executable file not found in $PATH", e.Message);
    }

    [Fact]
    public void EmptyFileNameIsRejected()
    {
        var fs = new FakeFiles();

        Assert.Throws<RuntimeException>(() => ExecutableLookup.Resolve("", null, fs.IsExecutable));
        Assert.Empty(fs.Asked);
    }

    [Fact]
    public void AMissingPathSaysNoSuchFileOrDirectory()
    {
        var fs = new FakeFiles();

        var e = Assert.Throws<RuntimeException>(() => ExecutableLookup.Resolve("/no/such", null, fs.IsExecutable, _ => false));

        Assert.Equal("exec: \"/no/such\": stat /no/such: no such file or directory", e.Message);
    }

    [Fact]
    public void AFileThatIsNotExecutableSaysPermissionDenied()
    {
        var fs = new FakeFiles();

        var e = Assert.Throws<RuntimeException>(() => ExecutableLookup.Resolve("/etc/passwd", null, fs.IsExecutable, _ => true));

        Assert.Equal("exec: \"/etc/passwd\": permission denied", e.Message);
    }
}
