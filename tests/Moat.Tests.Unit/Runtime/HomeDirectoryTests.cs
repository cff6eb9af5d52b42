using System.Text;
using Moat.Runtime.Init;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class HomeDirectoryTests
{
    const string Passwd = """
        root:x:0:0:root:/root:/bin/bash
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        app:x:1000:1000:App User,,,:/home/app:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
        """;

    [Theory]
    [InlineData(0u, "/root")]
    [InlineData(1u, "/usr/sbin")]
    [InlineData(1000u, "/home/app")]
    [InlineData(65534u, "/nonexistent")]
    public void FindsTheHomeOfTheUid(uint uid, string home) =>
        Assert.Equal(home, HomeDirectory.Find(Passwd, uid));

    [Fact]
    public void AnUnlistedUidHasNone() =>
        Assert.Null(HomeDirectory.Find(Passwd, 4242));

    [Fact]
    public void TheFirstLineOfAUidWins() =>
        Assert.Equal("/first", HomeDirectory.Find("a:x:7:7::/first:/bin/sh\nb:x:7:7::/second:/bin/sh\n", 7));

    [Fact]
    public void CommentsBlankLinesNisEntriesAndBrokenLinesAreSkipped()
    {
        var passwd = "# root:x:0:0::/commented:/bin/sh\n\n+root:x:0:0::/nis:/bin/sh\n-x\nshort:x:0:0\nbad:x:zero:0::/bad:/bin/sh\n" +
                     "neg:x:-0:0::/neg:/bin/sh\nroot:x:0:0::/real:/bin/sh\r\n";
        Assert.Equal("/real", HomeDirectory.Find(passwd, 0));
    }

    [Fact]
    public void ALineWithoutShellOrFinalNewlineCounts() =>
        Assert.Equal("/srv/svc", HomeDirectory.Find("root:x:0:0::/root:/bin/sh\nsvc:x:5:5::/srv/svc", 5));

    [Fact]
    public void AnEmptyHomeFieldIsNone() =>
        Assert.Null(HomeDirectory.Find("svc:x:5:5:::/bin/sh\n", 5));

    [Fact]
    public void HomeIsAppendedFromThePasswd()
    {
        var env = HomeDirectory.WithHome(["PATH=/bin", "TERM=xterm"], 1000, () => Encoding.UTF8.GetBytes(Passwd));
        Assert.Equal(["PATH=/bin", "TERM=xterm", "HOME=/home/app"], env);
    }

    [Fact]
    public void WithoutAnEntryOrAPasswdHomeIsRoot()
    {
        Assert.Equal(["HOME=/"], HomeDirectory.WithHome(null, 4242, () => Encoding.UTF8.GetBytes(Passwd)));
        Assert.Equal(["PATH=/bin", "HOME=/"], HomeDirectory.WithHome(["PATH=/bin"], 0, () => null));
    }

    [Theory]
    [InlineData("HOME=/mine")]
    [InlineData("HOME=")]
    public void AHomeInTheEnvironmentIsKeptAndThePasswdNotRead(string home)
    {
        List<string> env = ["PATH=/bin", home];
        var result = HomeDirectory.WithHome(env, 0, () => throw new InvalidOperationException("the passwd was read"));
        Assert.Same(env, result);
    }

    [Fact]
    public void AVariableThatOnlyStartsLikeHomeIsNotIt() =>
        Assert.Equal(["HOMEDIR=/x", "HOME=/root"], HomeDirectory.WithHome(["HOMEDIR=/x"], 0, () => Encoding.UTF8.GetBytes(Passwd)));

    [Fact]
    public void ReadPasswdReadsAFileAndGivesNullWhenThereIsNone()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("passwd");
        var big = new StringBuilder();
        for (var i = 0; i < 2000; i++)
            big.Append($"user{i}:x:{i + 2000}:{i + 2000}::/home/user{i}:/bin/sh\n");
        File.WriteAllText(path, big.ToString());
        Assert.Equal(big.ToString(), Encoding.UTF8.GetString(HomeDirectory.ReadPasswd(path)!));
        Assert.Null(HomeDirectory.ReadPasswd(dir.Combine("missing")));
    }

    [Fact]
    public void ReadPasswdDoesNotWaitForAFifoNorReadWithoutEnd()
    {
        using var dir = new TempDirectory();
        var fifo = dir.Combine("fifo");
        Assert.Equal(0, mkfifo(fifo, Convert.ToUInt32("644", 8)));
        Assert.Equal([], HomeDirectory.ReadPasswd(fifo)!);
        // /dev/zero never ends: given up at the limit.
        Assert.Null(HomeDirectory.ReadPasswd("/dev/zero"));
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int mkfifo(string path, uint mode);
}
