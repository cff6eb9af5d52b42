using Moat.Interop;
using Moat.Runtime;
using Moat.Runtime.State;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public sealed class StateStoreTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly StateStore store;

    public StateStoreTests() => store = new StateStore(temp.Combine("root"));

    public void Dispose() => temp.Dispose();

    static RuntimeState SampleState(string id) => new()
    {
        Phase = RuntimeState.Phases.Created,
        Id = id,
        Pid = 4242,
        PidStartTime = 123456789,
        Bundle = "/bundles/" + id,
        Rootfs = "/bundles/" + id + "/rootfs",
        Created = new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
        Owner = "root",
        Annotations = new() { ["org.example.key"] = "value" },
        CgroupDirectories = ["/sys/fs/cgroup/memory/moat/" + id, "/sys/fs/cgroup/unified/moat/" + id],
        CgroupCreated = true,
        CgroupPath = "/moat/" + id,
        Config = new Moat.Oci.Spec { OciVersion = "1.2.0", Hostname = "kept", Process = new Moat.Oci.Process { Args = ["sh"], Cwd = "/" } },
    };

    [Fact]
    public void RootIsAFullPath()
    {
        var relative = new StateStore("relative/root");

        Assert.True(Path.IsPathRooted(relative.Root));
        Assert.Equal(Path.Combine(relative.Root, "abc"), relative.DirectoryOf("abc"));
    }

    [Fact]
    public void CreateMakesTheDirectory()
    {
        using var dir = store.Create("c1");

        Assert.Equal("c1", dir.Id);
        Assert.Equal(temp.Combine("root", "c1"), dir.Path);
        Assert.True(Directory.Exists(dir.Path));
        Assert.Equal(temp.Combine("root", "c1", "exec.fifo"), dir.FifoPath);
        Assert.False(dir.FifoExists);
        Assert.Null(dir.ReadState());
    }

    [Fact]
    public void StateRootIsPrivate()
    {
        using var dir = store.Create("c1");

        var mode = File.GetUnixFileMode(store.Root);
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite));
    }

    [Fact]
    public void SecondCreateOfTheSameIdFails()
    {
        using (store.Create("dup"))
        {
        }

        var e = Assert.Throws<RuntimeException>(() => store.Create("dup"));

        Assert.Contains("already exists", e.Message);
        Assert.Contains("\"dup\"", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/b")]
    public void CreateRejectsInvalidIds(string id)
    {
        Assert.Throws<RuntimeException>(() => store.Create(id));
        Assert.False(Directory.Exists(store.Root));
    }

    [Fact]
    public void OpenOfAMissingIdThrowsNotFound()
    {
        var e = Assert.Throws<ContainerNotFoundException>(() => store.Open("missing"));

        Assert.Contains("\"missing\"", e.Message);
    }

    [Fact]
    public void OpenOfAnIdThatIsAFileThrowsNotFound()
    {
        Directory.CreateDirectory(store.Root);
        File.WriteAllText(store.DirectoryOf("stray"), "");

        Assert.Throws<ContainerNotFoundException>(() => store.Open("stray"));
    }

    [Fact]
    public void OpenWithoutARootThrowsNotFound()
    {
        var empty = new StateStore(temp.Combine("never-created"));

        Assert.Throws<ContainerNotFoundException>(() => empty.Open("x"));
    }

    [Fact]
    public void OpenRejectsInvalidIds()
    {
        var e = Assert.Throws<RuntimeException>(() => store.Open("../root"));

        Assert.IsNotType<ContainerNotFoundException>(e);
    }

    [Fact]
    public void WriteStateAndReadStateRoundTrip()
    {
        var written = SampleState("c1");
        using (var dir = store.Create("c1"))
            dir.WriteState(written);

        using var opened = store.Open("c1");
        var read = opened.ReadState();

        Assert.NotNull(read);
        Assert.Equal(written.Phase, read.Phase);
        Assert.Equal(written.Id, read.Id);
        Assert.Equal(written.Pid, read.Pid);
        Assert.Equal(written.PidStartTime, read.PidStartTime);
        Assert.Equal(written.Bundle, read.Bundle);
        Assert.Equal(written.Rootfs, read.Rootfs);
        Assert.Equal(written.Created, read.Created);
        Assert.Equal(written.Owner, read.Owner);
        Assert.Equal(written.Annotations, read.Annotations);
        Assert.Equal(written.CgroupDirectories, read.CgroupDirectories);
        Assert.True(read.CgroupCreated);
        Assert.Equal(written.CgroupPath, read.CgroupPath);
        Assert.Equal("kept", read.Config!.Hostname);
        Assert.Equal(["sh"], read.Config.Process!.Args!);
    }

    [Fact]
    public void WriteStateOverwritesAndLeavesNoTemporaryFile()
    {
        using var dir = store.Create("c1");
        dir.WriteState(SampleState("c1"));
        var second = SampleState("c1");
        second.Phase = RuntimeState.Phases.Creating;
        second.Pid = 7;
        dir.WriteState(second);

        Assert.Equal(["state.json"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
        var read = dir.ReadState()!;
        Assert.Equal(RuntimeState.Phases.Creating, read.Phase);
        Assert.Equal(7, read.Pid);
    }

    [Fact]
    public void StateFileIsOnlyReadableByTheOwner()
    {
        using var dir = store.Create("c1");
        dir.WriteState(SampleState("c1"));

        var mode = File.GetUnixFileMode(Path.Combine(dir.Path, ContainerDirectory.StateFile));
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
    }

    [Fact]
    public void StateFileUsesTheSpecNames()
    {
        using var dir = store.Create("c1");
        dir.WriteState(SampleState("c1"));

        var json = File.ReadAllText(Path.Combine(dir.Path, ContainerDirectory.StateFile));
        Assert.Contains("\"pidStartTime\":123456789", json);
        Assert.Contains("\"phase\":\"created\"", json);
        Assert.DoesNotContain("\"hooks\"", json);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("{\"pid\":\"abc\"}")]
    public void CorruptStateFileNamesTheFile(string content)
    {
        using var dir = store.Create("c1");
        var file = Path.Combine(dir.Path, ContainerDirectory.StateFile);
        File.WriteAllText(file, content);

        var e = Assert.Throws<RuntimeException>(() => dir.ReadState());

        Assert.Contains(file, e.Message);
        Assert.Contains("corrupt", e.Message);
    }

    [Fact]
    public void ListIdsIsSortedAndHoldsOnlyDirectories()
    {
        foreach (var id in new[] { "b", "a", "C", "a1" })
            store.Create(id).Dispose();
        File.WriteAllText(Path.Combine(store.Root, "stray-file"), "");

        Assert.Equal(["C", "a", "a1", "b"], store.ListIds());
    }

    [Fact]
    public void ListIdsWithoutARootIsEmpty()
    {
        Assert.Empty(new StateStore(temp.Combine("never-created")).ListIds());
    }

    [Fact]
    public void RemoveDeletesTheDirectoryAndItsFiles()
    {
        using (var dir = store.Create("gone"))
        {
            dir.WriteState(SampleState("gone"));
            dir.Remove();
            Assert.False(Directory.Exists(dir.Path));
            dir.Remove(); // a second remove is harmless
        }

        Assert.Empty(store.ListIds());
        Assert.Throws<ContainerNotFoundException>(() => store.Open("gone"));
        store.Create("gone").Dispose();
    }

    [Fact]
    public void TheDirectoryIsLockedUntilDisposed()
    {
        var dir = store.Create("locked");
        using var other = Libc.Open(dir.Path, Libc.O_RDONLY | Libc.O_DIRECTORY);

        Assert.True(Libc.flock(other.Fd, Libc.LOCK_EX | Libc.LOCK_NB) < 0);
        Assert.Equal(Errors.EAGAIN, Errors.LastErrno);

        dir.Dispose();
        Assert.Equal(0, Libc.flock(other.Fd, Libc.LOCK_EX | Libc.LOCK_NB));
    }
}
