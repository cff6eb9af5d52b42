namespace Moat.Tests.Containers;

/// <summary>cp both ways with docker's semantics, into running, created and exited containers, and no way out through the container's symlinks.</summary>
public sealed class CopyTests(ContainerStore store) : IClassFixture<ContainerStore>, IDisposable
{
    readonly string host = Directory.CreateTempSubdirectory("moat-cp").FullName;

    public void Dispose() => Directory.Delete(host, recursive: true);

    string HostFile(string relative, string content, int uid = 0)
    {
        var path = Path.Combine(host, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (uid != 0) Tests.Images.Registry.Tool.Run("chown", $"{uid}:{uid}", path);
        return path;
    }

    [Fact]
    public void FilesGoIntoARunningContainerOwnedByItsRootOrKeptWithArchive()
    {
        store.Ok("run", "-d", "--name", "cpfile", "busybox", "sleep", "1000");
        try
        {
            var file = HostFile("note.txt", "hello\n", uid: 1234);
            File.SetUnixFileMode(file, (UnixFileMode)0x1e4); // 0744
            store.Ok("cp", file, "cpfile:/tmp/renamed.txt");
            store.Ok("cp", file, "cpfile:/tmp");
            store.Ok("cp", "-a", file, "cpfile:/root/");
            Assert.Equal("hello\nhello\n", store.Ok("exec", "cpfile", "cat", "/tmp/renamed.txt", "/tmp/note.txt"));
            Assert.Equal("0:0 744\n1234:1234 744\n", store.Ok("exec", "cpfile", "sh", "-c", "stat -c '%u:%g %a' /tmp/note.txt /root/note.txt"));
            // A file over an existing file replaces it; into a missing directory is an error.
            HostFile("note.txt", "second\n");
            store.Ok("cp", file, "cpfile:/tmp/renamed.txt");
            Assert.Equal("second\n", store.Ok("exec", "cpfile", "cat", "/tmp/renamed.txt"));
            var missing = store.Run("cp", file, "cpfile:/no/such/dir/");
            Assert.Equal(125, missing.ExitCode);
            Assert.Contains("does not exist", missing.Stderr);
        }
        finally
        {
            store.Run("rm", "-f", "cpfile");
        }
    }

    [Fact]
    public void DirectoriesFollowDockersRules()
    {
        store.Ok("run", "-d", "--name", "cpdir", "busybox", "sleep", "1000");
        try
        {
            HostFile("tree/a.txt", "a\n");
            HostFile("tree/sub/b.txt", "b\n");
            File.CreateSymbolicLink(Path.Combine(host, "tree", "link"), "sub/b.txt");
            var tree = Path.Combine(host, "tree");
            store.Ok("cp", tree, "cpdir:/tmp");          // an existing directory: the tree goes into it
            store.Ok("cp", tree, "cpdir:/fresh");        // a new path: the tree becomes it
            store.Ok("cp", tree + "/.", "cpdir:/data");  // SRC/. : its contents into the existing directory
            var listing = store.Ok("exec", "cpdir", "sh", "-c", "cat /tmp/tree/a.txt /fresh/sub/b.txt /data/a.txt /data/seed; readlink /fresh/link; cat /fresh/link");
            Assert.Equal("a\nb\na\nfrom the image\nsub/b.txt\nb\n", listing);
            var onFile = store.Run("cp", tree, "cpdir:/data/seed");
            Assert.Equal(125, onFile.ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "cpdir");
        }
    }

    [Fact]
    public void FilesAndDirectoriesComeOutOfARunningContainer()
    {
        store.Ok("run", "-d", "--name", "cpout", "busybox", "sh", "-c", "mkdir -p /out/deep; echo made > /out/deep/f; chown 99:98 /out/deep/f; ln -s deep/f /out/rel; sleep 1000");
        try
        {
            ContainerStore.Eventually(() => store.Run("exec", "cpout", "test", "-L", "/out/rel").ExitCode == 0, "the container made its files");
            store.Ok("cp", "cpout:/out", host);
            Assert.Equal("made\n", File.ReadAllText(Path.Combine(host, "out", "deep", "f")));
            Assert.Equal("deep/f", new FileInfo(Path.Combine(host, "out", "rel")).LinkTarget);
            // Onto the host without -a the caller owns what it copied; with -a the container's ids are kept.
            Assert.Equal("0:0", Tests.Images.Registry.Tool.Run("stat", "-c", "%u:%g", Path.Combine(host, "out", "deep", "f")).Trim());
            store.Ok("cp", "-a", "cpout:/out/deep/f", Path.Combine(host, "kept"));
            Assert.Equal("99:98", Tests.Images.Registry.Tool.Run("stat", "-c", "%u:%g", Path.Combine(host, "kept")).Trim());
            // A symlink is copied as one, unless -L follows it (inside the container).
            store.Ok("cp", "cpout:/bin/sh", Path.Combine(host, "sh-link"));
            Assert.Equal("busybox", new FileInfo(Path.Combine(host, "sh-link")).LinkTarget);
            store.Ok("cp", "-L", "cpout:/out/rel", Path.Combine(host, "followed"));
            Assert.Equal("made\n", File.ReadAllText(Path.Combine(host, "followed")));
            Assert.Contains("does not exist", store.Run("cp", "cpout:/nothing/here", host).Stderr);
        }
        finally
        {
            store.Run("rm", "-f", "cpout");
        }
    }

    [Fact]
    public void SymlinksInTheContainerCannotLeadOutOfIt()
    {
        store.Ok("run", "-d", "--name", "cpescape", "busybox", "sh", "-c", "ln -s / /tmp/root; ln -s ../../../../../../../.. /tmp/up; ln -s /proc/1/root /tmp/magic; ln -s /etc /tmp/etc; sleep 1000");
        var marker = "moat-cp-escape-" + Guid.NewGuid().ToString("N");
        try
        {
            ContainerStore.Eventually(() => store.Run("exec", "cpescape", "test", "-L", "/tmp/etc").ExitCode == 0, "the container made its links");
            var file = HostFile("escape.txt", "inside\n");
            store.Ok("cp", file, $"cpescape:/tmp/root/{marker}");
            store.Ok("cp", file, $"cpescape:/tmp/up/{marker}-up");
            Assert.False(File.Exists("/" + marker), "cp followed an absolute symlink onto the host");
            Assert.False(File.Exists("/" + marker + "-up"), "cp followed a .. symlink onto the host");
            Assert.Equal("inside\ninside\n", store.Ok("exec", "cpescape", "cat", "/" + marker, "/" + marker + "-up"));
            // A magic link (/proc/PID/root) is refused rather than followed.
            var magic = store.Run("cp", file, $"cpescape:/tmp/magic/{marker}-magic");
            Assert.Equal(125, magic.ExitCode);
            Assert.False(File.Exists("/" + marker + "-magic"));
            // Reading through links resolves in the container too: its /etc/passwd, not the host's.
            store.Ok("cp", "cpescape:/tmp/up/etc/passwd", Path.Combine(host, "passwd"));
            Assert.Equal(store.Ok("exec", "cpescape", "cat", "/etc/passwd"), File.ReadAllText(Path.Combine(host, "passwd")));
            // A destination that is a symlink is replaced by the file, never written through.
            store.Ok("exec", "cpescape", "ln", "-s", "/etc/passwd", "/tmp/target");
            store.Ok("cp", file, "cpescape:/tmp/target");
            Assert.Equal("inside\n", store.Ok("exec", "cpescape", "cat", "/tmp/target"));
            Assert.Contains("root:x:0:0", store.Ok("exec", "cpescape", "cat", "/etc/passwd"));
        }
        finally
        {
            store.Run("rm", "-f", "cpescape");
            foreach (var leftover in new[] { "", "-up", "-magic" })
                File.Delete("/" + marker + leftover);
        }
    }

    [Fact]
    public void CreatedAndExitedContainersAreReachedThroughTheirLayer()
    {
        store.Ok("create", "--name", "cpcreated", "busybox", "cat", "/greeting");
        store.Ok("run", "--name", "cpexited", "busybox", "sh", "-c", "echo result > /result");
        try
        {
            store.Ok("cp", HostFile("greeting", "hi there\n"), "cpcreated:/greeting");
            var attached = store.Run("start", "-a", "cpcreated");
            Assert.Equal("hi there\n", attached.Stdout);

            store.Ok("cp", "cpexited:/result", Path.Combine(host, "result"));
            Assert.Equal("result\n", File.ReadAllText(Path.Combine(host, "result")));
            store.Ok("cp", HostFile("later", "later\n"), "cpexited:/later");
            store.Ok("cp", "cpexited:/later", Path.Combine(host, "later-back"));
            Assert.Equal("later\n", File.ReadAllText(Path.Combine(host, "later-back")));
            // The layer is mounted only for the copy (and by the monitor while it runs).
            var id = store.Inspect("cpexited").GetProperty("Id").GetString()!;
            ContainerStore.Eventually(() => !File.ReadAllText("/proc/self/mountinfo").Contains(id + "/", StringComparison.Ordinal), "the exited container's layer unmounted");
        }
        finally
        {
            store.Run("rm", "-f", "cpcreated", "cpexited");
        }
    }
}
