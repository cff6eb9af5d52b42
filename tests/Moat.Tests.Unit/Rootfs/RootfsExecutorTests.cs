using Moat.Interop;
using Moat.Runtime;
using Moat.Runtime.Rootfs;
using Xunit;
using static Moat.Interop.Libc;

namespace Moat.Tests.Unit.Rootfs;

/// <summary>The executor against a recording fake: the calls a step makes, in order, and what a failure says.</summary>
public class RootfsExecutorTests
{
    static readonly StepOrigin Root = new("root.path");

    static StepOrigin Mounts(int index) => new("mounts", index);

    readonly FakeRootfsSyscalls sys = new();

    List<string> Run(params RootfsStep[] steps)
    {
        new RootfsExecutor(sys).Run(steps);
        return sys.Calls;
    }

    [Fact]
    public void StepsRunInOrderAndTheRootIsClosedAtTheEnd()
    {
        var calls = Run(
            new SetUmask(Root, 0),
            new ChangePropagation(Root, "/", MS_SLAVE | MS_REC, InRoot: false),
            new HostMount(Root, "/b/rootfs", "/b/rootfs", "bind", MS_BIND | MS_REC),
            new OpenRoot(Root, "/b/rootfs"),
            new MountFilesystem(Mounts(0), "/proc", "proc", "proc", MS_NOSUID, null),
            new Symlink(new("/dev"), "/dev/fd", "/proc/self/fd"),
            new MakeDirectory(new("process.cwd"), "/work"),
            new PivotRoot(Root, "/b/rootfs"));

        Assert.Equal(
        [
            "umask 0",
            "mount none on / type none slave,rec",
            "mount /b/rootfs on /b/rootfs type bind bind,rec",
            "open root /b/rootfs",
            "make dir root:/proc",
            "mount proc on root:/proc type proc nosuid",
            "symlink root:/dev/fd -> /proc/self/fd",
            "make dir root:/work",
            // pivot_root(".", ".") stacks the old root on the new one; it is then detached.
            "open /",
            "open /b/rootfs",
            "fchdir /b/rootfs",
            "pivot_root . .",
            "fchdir /",
            "mount none on . type none slave,rec",
            "umount . 0x2",
            "chdir /",
            "close root",
        ], calls);
    }

    [Fact]
    public void AFailedStepNamesItsFieldAndDestination()
    {
        sys.MountErrors["root:/proc"] = Errors.EBUSY;

        var e = Assert.Throws<RuntimeException>(() => Run(
            new OpenRoot(Root, "/b/rootfs"),
            new MountFilesystem(Mounts(2), "/proc", "proc", "proc", 0, null),
            new MakeDirectory(new("process.cwd"), "/work")));

        Assert.StartsWith("mounts[2] (/proc): mount proc on /proc (type proc): ", e.Message);
        Assert.Contains("(errno 16)", e.Message);
        // Nothing after the failed step runs; the root is closed all the same.
        Assert.Equal(["open root /b/rootfs", "make dir root:/proc", "mount proc on root:/proc type proc 0", "close root"], sys.Calls);
    }

    [Fact]
    public void AFailedDeviceNamesItsField()
    {
        sys.MknodErrno = Errors.EINVAL;

        var e = Assert.Throws<RuntimeException>(() => Run(new OpenRoot(Root, "/r"), new MakeDevice(new("linux.devices", 1), "/dev/fuse", S_IFCHR | 0x1b6, 0xae5, 0, 0)));

        Assert.StartsWith("linux.devices[1] (/dev/fuse): mknod /dev/fuse: ", e.Message);
    }

    [Fact]
    public void AMissingBindSourceIsNamedAndNothingIsMounted()
    {
        var e = Assert.Throws<RuntimeException>(() => Run(
            new OpenRoot(Root, "/r"),
            new BindMount(Mounts(4), "/mnt/data", "/srv/missing", BindTarget.LikeSource, Recursive: true, Remount: false, 0)));

        Assert.Equal("mounts[4] (/mnt/data): bind source /srv/missing does not exist", e.Message);
        Assert.Equal(["open root /r", "stat /srv/missing", "close root"], sys.Calls);
    }

    [Fact]
    public void ABindTargetIsAFileOrADirectoryLikeItsSourceAndFlagsTakeARemount()
    {
        sys.Paths["/srv/dir"] = PathKind.Directory;
        sys.Paths["/srv/file"] = PathKind.Other;

        Run(new OpenRoot(Root, "/r"),
            new BindMount(Mounts(0), "/a", "/srv/dir", BindTarget.LikeSource, Recursive: true, Remount: true, MS_RDONLY | MS_NOSUID),
            new BindMount(Mounts(1), "/b", "/srv/file", BindTarget.LikeSource, Recursive: false, Remount: false, 0),
            new BindMount(Mounts(2), "/c", "/sys/fs/cgroup/pids/c1", BindTarget.Directory, Recursive: false, Remount: true, 0));

        Assert.Equal(
        [
            "open root /r",
            "stat /srv/dir",
            "make dir root:/a",
            "mount /srv/dir on root:/a type none bind,rec",
            "mount none on root:/a type none ro,nosuid,remount,bind",
            "stat /srv/file",
            "make file root:/b",
            "mount /srv/file on root:/b type none bind",
            // A target known to be a directory needs no look at the source.
            "make dir root:/c",
            "mount /sys/fs/cgroup/pids/c1 on root:/c type none bind",
            "mount none on root:/c type none remount,bind",
            "close root",
        ], sys.Calls);
    }

    [Fact]
    public void ASourceTheRuntimeOpenedIsBoundThroughItsDescriptorAndClosed()
    {
        var opened = sys.NewFd("/srv/data");
        var tree = sys.NewFd("tree:/srv/mapped");
        sys.Paths["/srv/data"] = PathKind.Directory;

        Run(new OpenRoot(Root, "/r"),
            new BindMount(Mounts(0), "/data", "/srv/data", BindTarget.LikeSource, Recursive: true, Remount: false, 0, opened),
            new BindMount(Mounts(1), "/mapped", "/srv/mapped", BindTarget.LikeSource, Recursive: false, Remount: false, 0, tree, AttachDetached: true));

        Assert.Equal(
        [
            "open root /r",
            "stat /srv/data",
            "make dir root:/data",
            "mount /srv/data on root:/data type none bind,rec",
            "stat tree:/srv/mapped",
            "make file root:/mapped",
            "move_mount tree:/srv/mapped to root:/mapped",
            "close root",
        ], sys.Calls);
        Assert.True(opened.IsClosed);
        Assert.True(tree.IsClosed);
    }

    [Fact]
    public void AnIdmappedBindClonesMapsAndAttaches()
    {
        sys.Paths["/srv/mapped"] = PathKind.Directory;

        Run(new OpenRoot(Root, "/r"), new IdmappedBind(Mounts(0), "/mapped", "/srv/mapped", RecursiveTree: true, RecursiveIdmap: true, 33, MS_NOSUID));

        Assert.Equal(
        [
            "open root /r",
            "stat /srv/mapped",
            "open_tree clone /srv/mapped rec",
            "idmap tree:/srv/mapped userns fd 33 rec",
            "make dir root:/mapped",
            "move_mount tree:/srv/mapped to root:/mapped",
            "mount none on root:/mapped type none nosuid,remount,bind",
            "close root",
        ], sys.Calls);
    }

    [Fact]
    public void TmpcopyupOpensWhatTheTmpfsCoversBeforeTheMountAndCopiesItAfter()
    {
        Run(new OpenRoot(Root, "/r"), new MountFilesystem(Mounts(0), "/tmp", "tmpfs", "tmpfs", MS_NOSUID, "mode=1777", CopyUp: true));

        Assert.Equal(
        [
            "open root /r",
            "make dir root:/tmp",
            "open dir root:/tmp",
            "mount tmpfs on root:/tmp type tmpfs nosuid data mode=1777",
            "copy covered:root:/tmp to root:/tmp",
            "close root",
        ], sys.Calls);
    }

    [Fact]
    public void AFallbackAppliesOnlyToTheErrnoItIsFor()
    {
        var sysfs = new MountFilesystem(Mounts(5), "/sys", "sysfs", "sysfs", MS_RDONLY, null,
            Fallback: new MountFallback(Errors.EPERM, "/sys", Recursive: true, Remount: true, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID));
        sys.MountErrors["root:/sys"] = Errors.EPERM;

        Run(new OpenRoot(Root, "/r"), sysfs);

        Assert.Equal(
        [
            "open root /r",
            "make dir root:/sys",
            "mount sysfs on root:/sys type sysfs ro",
            "mount /sys on root:/sys type none bind,rec",
            "mount none on root:/sys type none ro,nosuid,remount,bind",
            "close root",
        ], sys.Calls);

        sys.MountErrors["root:/sys"] = Errors.EACCES;
        var e = Assert.Throws<RuntimeException>(() => new RootfsExecutor(sys).Run([new OpenRoot(Root, "/r"), sysfs]));
        Assert.StartsWith("mounts[5] (/sys): mount sysfs on /sys (type sysfs): ", e.Message);
    }

    [Fact]
    public void ARemountTheUserNamespaceRefusesKeepsTheLockedFlags()
    {
        sys.MountErrors["/"] = Errors.EPERM;
        sys.MountFlags = MS_NOSUID | MS_NODEV | 0x1000 /* ST_NOSYMFOLLOW-like bits that are not kept */;

        Run(new Remount(new("root.readonly"), "/", MS_BIND | MS_REMOUNT | MS_RDONLY, InRoot: false));

        Assert.Equal(
        [
            "mount none on / type none ro,remount,bind",
            "statfs /",
            "mount none on / type none ro,nosuid,nodev,remount,bind",
        ], sys.Calls);
    }

    [Fact]
    public void ADeviceTheKernelRefusesToMakeIsTheHostsBound()
    {
        Run(new OpenRoot(Root, "/r"),
            new MakeDevice(new("/dev"), "/dev/null", S_IFCHR | 0x1b6, Devices.MakeDev(1, 3), 0, 0),
            new BindDevice(new("/dev"), "/dev/zero"));
        sys.Calls.RemoveAll(c => c is "open root /r" or "close root");
        var made = sys.Calls.ToList();
        sys.Calls.Clear();
        sys.MknodErrno = Errors.EPERM;

        Run(new OpenRoot(Root, "/r"), new MakeDevice(new("/dev"), "/dev/null", S_IFCHR | 0x1b6, Devices.MakeDev(1, 3), 0, 0));

        Assert.Equal(
        [
            "make dir root:/dev",
            "unlink root:/dev/null",
            "mknod root:/dev/null 0x21b6 0x103",
            "chown root:/dev/null 0:0",
            // In a user namespace the plan binds from the start.
            "make dir root:/dev",
            "unlink root:/dev/zero",
            "make file root:/dev/zero",
            "mount /dev/zero on root:/dev/zero type none bind",
        ], made);
        Assert.Equal(
        [
            "open root /r",
            "make dir root:/dev",
            "unlink root:/dev/null",
            "mknod root:/dev/null 0x21b6 0x103",
            "make file root:/dev/null",
            "mount /dev/null on root:/dev/null type none bind",
            "close root",
        ], sys.Calls);
    }

    [Fact]
    public void AMaskedDirectoryGetsAReadOnlyTmpfsAnythingElseDevNullAndMissingPathsAreLeftAlone()
    {
        sys.Paths["/sys/firmware"] = PathKind.Directory;
        sys.MountErrors["/proc/missing"] = Errors.ENOENT;
        sys.MountErrors["/proc/nope"] = Errors.ENOENT;

        Run(new MaskPath(new("linux.maskedPaths", 0), "/sys/firmware"),
            new MaskPath(new("linux.maskedPaths", 1), "/proc/kcore"),
            new MaskPath(new("linux.maskedPaths", 2), "/proc/missing"),
            new ReadonlyPath(new("linux.readonlyPaths", 0), "/proc/nope"),
            new ReadonlyPath(new("linux.readonlyPaths", 1), "/proc/sys"));

        Assert.Equal(
        [
            "stat /sys/firmware",
            "mount tmpfs on /sys/firmware type tmpfs ro",
            "stat /proc/kcore",
            "mount /dev/null on /proc/kcore type none bind",
            "stat /proc/missing",
            "mount /dev/null on /proc/missing type none bind",
            "mount /proc/nope on /proc/nope type none bind,rec",
            "mount /proc/sys on /proc/sys type none bind,rec",
            "mount none on /proc/sys type none ro,remount,bind,rec",
        ], sys.Calls);
    }

    [Fact]
    public void AMaskThatFailsOtherwiseNamesThePath()
    {
        sys.MountErrors["/proc/kcore"] = Errors.EACCES;

        var e = Assert.Throws<RuntimeException>(() => Run(new MaskPath(new("linux.maskedPaths", 3), "/proc/kcore")));

        Assert.StartsWith("linux.maskedPaths[3] (/proc/kcore): mask /proc/kcore: ", e.Message);
    }

    [Fact]
    public void AHierarchyWithoutADirectoryIsSkippedWithItsLinks()
    {
        sys.Paths["/cg/memory/c1"] = PathKind.Directory;

        Run(new OpenRoot(Root, "/r"),
            new SkipUnlessHostDirectory(Mounts(6), "/cg/cpu,cpuacct/c1", 3),
            new BindMount(Mounts(6), "/sys/fs/cgroup/cpu,cpuacct", "/cg/cpu,cpuacct/c1", BindTarget.Directory, false, true, 0),
            new Symlink(Mounts(6), "/sys/fs/cgroup/cpu", "cpu,cpuacct"),
            new Symlink(Mounts(6), "/sys/fs/cgroup/cpuacct", "cpu,cpuacct"),
            new SkipUnlessHostDirectory(Mounts(6), "/cg/memory/c1", 1),
            new BindMount(Mounts(6), "/sys/fs/cgroup/memory", "/cg/memory/c1", BindTarget.Directory, false, true, 0));

        Assert.Equal(
        [
            "open root /r",
            "stat /cg/cpu,cpuacct/c1",
            "stat /cg/memory/c1",
            "make dir root:/sys/fs/cgroup/memory",
            "mount /cg/memory/c1 on root:/sys/fs/cgroup/memory type none bind",
            "mount none on root:/sys/fs/cgroup/memory type none remount,bind",
            "close root",
        ], sys.Calls);
    }

    [Fact]
    public void CheckpointsRunInTheirPlaceAndTheirErrorsAreTheirOwn()
    {
        var points = new List<string>();
        var executor = new RootfsExecutor(sys, point =>
        {
            points.Add($"{point} after {sys.Calls.Count} calls");
            if (point == RootfsCheckpoint.BeforePivot)
                throw new RuntimeException("createContainer hook failed");
        });

        var e = Assert.Throws<RuntimeException>(() => executor.Run(
        [
            new SetUmask(Root, 0),
            new Checkpoint(Mounts(6), RootfsCheckpoint.CgroupPlacement),
            new SetUmask(Root, 0x12),
            new Checkpoint(Root, RootfsCheckpoint.BeforePivot),
            new Chroot(Root, "/r"),
        ]));

        Assert.Equal("createContainer hook failed", e.Message);
        Assert.Equal(["CgroupPlacement after 1 calls", "BeforePivot after 2 calls"], points);
        Assert.Equal(["umask 0", "umask 22"], sys.Calls);
    }

    [Fact]
    public void ChrootWithAndWithoutMovingTheRoot()
    {
        Run(new MoveRootAndChroot(Root, "/b/rootfs"), new Chroot(Root, "/b/rootfs"));

        Assert.Equal(
        [
            "chdir /b/rootfs", "mount /b/rootfs on / type none move", "chroot .", "chdir /",
            "chdir /b/rootfs", "chroot .", "chdir /",
        ], sys.Calls);
    }

    [Fact]
    public void PropagationRecursiveAttributesAndRemountsInTheRootGoThroughTheMountedPath()
    {
        Run(new OpenRoot(Root, "/r"),
            new SetRecursiveAttributes(Mounts(1), "/data", 3, 0),
            new ChangePropagation(Mounts(1), "/data", MS_SLAVE | MS_REC, InRoot: true),
            new Remount(Mounts(1), "/sys/fs/cgroup", MS_BIND | MS_REMOUNT | MS_RDONLY, InRoot: true));

        Assert.Equal(
        [
            "open root /r",
            "mount_setattr root:/data set 0x3 clear 0x0 rec",
            "mount none on root:/data type none slave,rec",
            "mount none on root:/sys/fs/cgroup type none ro,remount,bind",
            "close root",
        ], sys.Calls);
    }

    [Fact]
    public void AStepInTheRootBeforeTheRootIsOpenedIsAPlanError()
    {
        Assert.Throws<InvalidOperationException>(() => Run(new MakeDirectory(new("process.cwd"), "/work")));
    }
}
