using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>The root filesystem: pivot_root, mounts and their options, /dev, masked and read-only paths.</summary>
public sealed class FilesystemTests
{
    [Fact]
    public void RootIsTheBundleRootfsAndReadonlyWhenAsked()
    {
        using var bundle = new TestBundle();
        File.WriteAllText(Path.Combine(bundle.Rootfs, "marker"), "inside");
        Assert.Equal("inside", bundle.Sh("cat /marker"));
        bundle.Args("sh", "-c", "touch /newfile");
        var refused = bundle.Run();
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Read-only file system", refused.Stderr);

        bundle.Spec.Root!.Readonly = false;
        bundle.Sh("touch /newfile");
        Assert.True(File.Exists(Path.Combine(bundle.Rootfs, "newfile")));
    }

    [Fact]
    public void NoPivotUsesChrootAndStillIsolates()
    {
        using var bundle = new TestBundle("sh", "-c", "cat /marker; echo $$");
        File.WriteAllText(Path.Combine(bundle.Rootfs, "marker"), "chrooted\n");
        Assert.Equal("chrooted\n1\n", bundle.Run("--no-pivot").Ok().Stdout);
    }

    [Fact]
    public void HostMountsAreNotVisible()
    {
        using var bundle = new TestBundle();
        var mountPoints = bundle.Sh("cut -d' ' -f5 /proc/self/mountinfo").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("/", mountPoints[0]);
        Assert.DoesNotContain(mountPoints, m => m.Contains(bundle.Directory) || m.StartsWith("/work") || m.StartsWith("/run"));
        Assert.Contains("/proc", mountPoints);
        Assert.Contains("/dev/pts", mountPoints);
    }

    [Fact]
    public void DefaultDevicesAndLinksExist()
    {
        using var bundle = new TestBundle();
        var listing = bundle.Sh("ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in fd stdin ptmx; do readlink /dev/$l; done");
        foreach (var (name, numbers) in new[] { ("null", "1,   3"), ("zero", "1,   5"), ("full", "1,   7"), ("random", "1,   8"), ("urandom", "1,   9"), ("tty", "5,   0") })
        {
            var line = listing.Split('\n').Single(l => l.EndsWith("/dev/" + name));
            Assert.StartsWith("crw-rw-rw-", line);
            Assert.Contains(numbers, line);
        }
        Assert.Contains("/proc/self/fd\n/proc/self/fd/0\npts/ptmx", listing);
        Assert.Equal("ok\n", bundle.Sh("echo ok > /dev/null && head -c 4 /dev/zero | wc -c | grep -q 4 && echo ok"));
    }

    [Fact]
    public void ConfigDevicesAreCreatedWithTheirModeAndOwner()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Devices = [new LinuxDevice { Type = "c", Path = "/dev/extra/null2", Major = 1, Minor = 3, FileMode = Convert.ToUInt32("640", 8), Uid = 7, Gid = 8 }];
        bundle.Spec.Linux.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" });
        var line = bundle.Sh("ls -ln /dev/extra/null2");
        Assert.StartsWith("crw-r-----", line);
        Assert.Contains(" 7 ", line);
        Assert.Contains(" 8 ", line);
    }

    /// <summary>
    /// podman puts the host node's whole st_mode in fileMode (`--device /dev/zero:/dev/xzero` gives
    /// 020666), which was refused as "bits outside the permission mask". The type comes from "type";
    /// the node gets the permission bits.
    /// </summary>
    [Fact]
    public void DeviceFileModeWithTheFileTypeBitsIsAccepted()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Devices = [new LinuxDevice { Type = "c", Path = "/dev/xzero", Major = 1, Minor = 5, FileMode = Convert.ToUInt32("020666", 8), Uid = 0, Gid = 0 }];
        bundle.Spec.Linux.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 5, Access = "rwm" });
        var output = bundle.Sh("ls -ln /dev/xzero; stat -c %a /dev/xzero; head -c 3 /dev/xzero | wc -c");
        Assert.StartsWith("crw-rw-rw-", output);
        Assert.Contains("\n666\n3\n", output);
    }

    [Fact]
    public void BindMountsHonourReadonlyAndTheirSourceStaysIntact()
    {
        using var bundle = new TestBundle();
        var shared = Directory.CreateTempSubdirectory("moat-it-bind-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(shared, "data"), "from host");
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt/ro", Type = "bind", Source = shared, Options = ["rbind", "ro", "nosuid", "nodev"] });
            bundle.Spec.Mounts.Add(new Mount { Destination = "/mnt/rw", Source = shared, Options = ["bind"] });
            bundle.Spec.Mounts.Add(new Mount { Destination = "/mnt/file", Source = Path.Combine(shared, "data"), Options = ["bind", "ro"] });
            var output = bundle.Sh("cat /mnt/ro/data; echo; cat /mnt/file; echo; touch /mnt/ro/x 2>/dev/null || echo ro-refused; echo written > /mnt/rw/new; grep ' /mnt/ro ' /proc/self/mountinfo");
            Assert.StartsWith("from host\nfrom host\nro-refused\n", output);
            Assert.Contains("ro,nosuid,nodev", output);
            Assert.Equal("written\n", File.ReadAllText(Path.Combine(shared, "new")));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    /// <summary>
    /// An idmapped bind mount: the mappings are written to the mount's user namespace as given (as
    /// runc does), so a file that is uid/gid 1000 on disk shows as 0 through {containerID 1000, hostID 0},
    /// and a file root creates through the mount lands on disk as 1000.
    /// </summary>
    [Fact]
    public void IdmappedBindMountTranslatesOwnership()
    {
        using var bundle = new TestBundle();
        var shared = Directory.CreateTempSubdirectory("moat-it-idmap-").FullName;
        try
        {
            var file = Path.Combine(shared, "owned-by-1000");
            File.WriteAllText(file, "x");
            File.SetUnixFileMode(shared, (UnixFileMode)Convert.ToInt32("777", 8));
            Assert.Equal(0, MoatCli.Exec("/bin/chown", ["1000:1000", file, shared]).ExitCode);
            var mapping = new List<LinuxIdMapping> { new() { ContainerId = 1000, HostId = 0, Size = 1 } };
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/idmapped", Type = "bind", Source = shared, Options = ["bind"], UidMappings = mapping, GidMappings = mapping });
            bundle.Spec.Mounts.Add(new Mount { Destination = "/plain", Type = "bind", Source = shared, Options = ["bind", "ro"] });
            var output = bundle.Sh("stat -c '%u:%g' /idmapped/owned-by-1000 /plain/owned-by-1000; touch /idmapped/made-by-root; grep -c idmapped /proc/self/mountinfo");
            // The kernel marks the mount "idmapped" in mountinfo: exactly one such mount.
            Assert.Equal("0:0\n1000:1000\n1\n", output);
            Assert.Equal(1000u, StatUid(Path.Combine(shared, "made-by-root")));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    /// <summary>A user namespace mapping the container's root (and 65535 more ids) to host ids from <paramref name="hostId"/>.</summary>
    internal static void UseUserNamespace(TestBundle bundle, uint hostId)
    {
        bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.User });
        bundle.Spec.Linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostId, Size = 65536 }];
        bundle.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostId, Size = 65536 }];
    }

    /// <summary>
    /// Bind sources below a directory only host root may enter (mode 0700): a directory and a file. The
    /// container's root is host uid 100000 and could not reach them itself; the runtime opens them.
    /// Returns the hidden directory (the caller deletes it).
    /// </summary>
    internal static string AddBindsBelowAHostRootOnlyDirectory(TestBundle bundle)
    {
        var hidden = Directory.CreateTempSubdirectory("moat-it-hidden-").FullName;
        File.SetUnixFileMode(hidden, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var shared = Directory.CreateDirectory(Path.Combine(hidden, "shared")).FullName;
        File.SetUnixFileMode(shared, (UnixFileMode)Convert.ToInt32("755", 8));
        File.WriteAllText(Path.Combine(shared, "readable"), "visible\n");
        File.SetUnixFileMode(Path.Combine(shared, "readable"), (UnixFileMode)Convert.ToInt32("644", 8));
        File.WriteAllText(Path.Combine(shared, "secret"), "root only\n");
        File.SetUnixFileMode(Path.Combine(shared, "secret"), (UnixFileMode)Convert.ToInt32("600", 8));
        File.WriteAllText(Path.Combine(hidden, "file"), "a single file\n");
        File.SetUnixFileMode(Path.Combine(hidden, "file"), (UnixFileMode)Convert.ToInt32("644", 8));
        // The targets exist in the image: the container's root may not create them in a rootfs host root owns.
        Directory.CreateDirectory(Path.Combine(bundle.Rootfs, "mnt", "shared"));
        File.WriteAllText(Path.Combine(bundle.Rootfs, "mnt", "file"), "");
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt/shared", Type = "bind", Source = shared, Options = ["rbind"] });
        bundle.Spec.Mounts.Add(new Mount { Destination = "/mnt/file", Type = "bind", Source = Path.Combine(hidden, "file"), Options = ["bind", "ro"] });
        return hidden;
    }

    internal const string ReadBindsBelowAHostRootOnlyDirectory =
        "ls /mnt/shared; cat /mnt/shared/readable; cat /mnt/shared/secret 2>/dev/null || echo secret-refused; cat /mnt/file";

    /// <summary>
    /// issue 13: a bind source the container's user-namespace root cannot reach (below a 0700 directory of
    /// host root) is mounted, as runc and crun do, and its files are readable as their modes allow.
    /// </summary>
    [Fact]
    public void BindSourceOnlyHostRootCanReachIsMountedUnderAUserNamespace()
    {
        using var bundle = new TestBundle();
        UseUserNamespace(bundle, 100000);
        var hidden = AddBindsBelowAHostRootOnlyDirectory(bundle);
        try
        {
            Assert.Equal("readable\nsecret\nvisible\nsecret-refused\na single file\n", bundle.Sh(ReadBindsBelowAHostRootOnlyDirectory));
        }
        finally
        {
            Directory.Delete(hidden, recursive: true);
        }
    }

    /// <summary>
    /// issue 13: an idmapped bind mount into a container with its own user namespace. The mapping
    /// {containerID 1000, hostID 100000} shows the files uid/gid 1000 owns on disk as owned by the
    /// container's root (host 100000), and what that root creates through the mount lands on disk as 1000.
    /// </summary>
    [Fact]
    public void IdmappedBindMountWorksInAContainerWithItsOwnUserNamespace()
    {
        using var bundle = new TestBundle();
        UseUserNamespace(bundle, 100000);
        var shared = Directory.CreateTempSubdirectory("moat-it-idmap-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(shared, "owned-by-1000"), "x");
            File.SetUnixFileMode(shared, (UnixFileMode)Convert.ToInt32("755", 8));
            Assert.Equal(0, MoatCli.Exec("/bin/chown", ["-R", "1000:1000", shared]).ExitCode);
            Directory.CreateDirectory(Path.Combine(bundle.Rootfs, "idmapped"));
            var mapping = new List<LinuxIdMapping> { new() { ContainerId = 1000, HostId = 100000, Size = 1 } };
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/idmapped", Type = "bind", Source = shared, Options = ["bind"], UidMappings = mapping, GidMappings = mapping });
            var output = bundle.Sh("stat -c '%u:%g' /idmapped/owned-by-1000; touch /idmapped/made-by-root; grep -c idmapped /proc/self/mountinfo");
            Assert.Equal("0:0\n1\n", output);
            Assert.Equal(1000u, StatUid(Path.Combine(shared, "made-by-root")));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    /// <summary>
    /// The runtime opens bind sources inside the container's mount namespace, where the kernel locked the
    /// host's mounts for the container's user namespace: a container root with CAP_SYS_ADMIN (in its own
    /// user namespace) can neither remount its bind of a read-only host mount read-write nor unmount what
    /// the host mounted below it. (A copy of the source taken in the host's namespace would carry no locks.)
    /// </summary>
    [Fact]
    public void BindsOpenedByTheRuntimeKeepTheHostMountsLocks()
    {
        using var bundle = new TestBundle("sh", "-c",
            "mount -o remount,bind,rw /mnt/locked 2>/dev/null && echo remounted-rw || echo rw-refused; " +
            "umount /mnt/locked/sub 2>/dev/null && echo unmounted || echo umount-refused; " +
            "touch /mnt/locked/sub/x 2>/dev/null && echo wrote || echo write-refused; cat /mnt/locked/data");
        UseUserNamespace(bundle, 100000);
        var caps = new List<string> { "CAP_SYS_ADMIN" };
        bundle.Spec.Process!.Capabilities = new LinuxCapabilities { Bounding = caps, Effective = caps, Permitted = caps };
        bundle.Spec.Linux!.Seccomp = null;
        var source = Directory.CreateTempSubdirectory("moat-it-locked-").FullName;
        File.SetUnixFileMode(source, (UnixFileMode)Convert.ToInt32("755", 8));
        File.WriteAllText(Path.Combine(source, "data"), "under a read-only mount\n");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        Directory.CreateDirectory(Path.Combine(bundle.Rootfs, "mnt", "locked"));
        var mounted = new List<string>();
        try
        {
            void Host(params string[] args) => MoatCli.Exec("/bin/mount", args).Ok();
            Host("--bind", source, source);
            mounted.Add(source);
            Host("-t", "tmpfs", "-o", "mode=777", "tmpfs", Path.Combine(source, "sub"));
            mounted.Insert(0, Path.Combine(source, "sub"));
            Host("-o", "remount,bind,ro", source);
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt/locked", Type = "bind", Source = source, Options = ["rbind"] });
            Assert.Equal("rw-refused\numount-refused\nwrote\nunder a read-only mount\n", bundle.Run().Ok().Stdout);
        }
        finally
        {
            foreach (var point in mounted)
                MoatCli.Exec("/bin/umount", [point]);
            Directory.Delete(source, recursive: true);
        }
    }

    /// <summary>A missing bind source fails create with a sentence that names the source and the mount's destination.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MissingBindSourceIsNamedWithItsDestination(bool userNamespace)
    {
        using var bundle = new TestBundle();
        if (userNamespace)
            UseUserNamespace(bundle, 100000);
        var missing = Path.Combine(bundle.Directory, "no-such-source");
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt/data", Type = "bind", Source = missing, Options = ["rbind"] });
        var index = bundle.Spec.Mounts.Count - 1;
        var result = bundle.Run();
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"mounts[{index}] (/mnt/data): bind source {missing} does not exist", result.Stderr);
    }

    static uint StatUid(string path) =>
        uint.Parse(MoatCli.Exec("/usr/bin/stat", ["-c", "%u", path]).Ok().Stdout.Trim());

    [Fact]
    public void TmpfsOptionsReachTheKernel()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/scratch", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "noexec", "size=1m", "mode=700"] });
        var line = bundle.Sh("grep ' /scratch ' /proc/self/mountinfo; stat -c %a /scratch");
        Assert.Contains("nosuid", line);
        Assert.Contains("noexec", line);
        Assert.Contains("size=1024k", line);
        Assert.EndsWith("700\n", line);
    }

    [Fact]
    public void MaskedPathsAreEmptyAndReadonlyPathsRefuseWrites()
    {
        using var bundle = new TestBundle();
        // /proc/keys is masked by a bind of /dev/null, /sys/firmware by an empty read-only tmpfs.
        Assert.NotEqual(0, new FileInfo("/proc/keys").Exists ? File.ReadAllText("/proc/keys").Length : 1);
        var output = bundle.Sh("wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo refused");
        Assert.Equal("0\n0\nrefused\n", output);
    }

    [Fact]
    public void CgroupMountShowsTheContainersOwnCgroup()
    {
        using var bundle = new TestBundle();
        var output = bundle.Sh("cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; ls /sys/fs/cgroup");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Only the container's own processes (sh, cat, wc), not the host's.
        Assert.InRange(int.Parse(lines[0]), 1, 3);
        Assert.Contains("pids", lines);
        Assert.Contains("memory", lines);
    }

    [Fact]
    public void MountPropagationFlagsApply()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/shared", Type = "tmpfs", Source = "tmpfs", Options = ["rshared"] });
        var line = bundle.Sh("grep ' /shared ' /proc/self/mountinfo");
        Assert.Contains("shared:", line);
    }
}
