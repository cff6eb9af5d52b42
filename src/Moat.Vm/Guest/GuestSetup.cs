using Moat.Interop;

namespace Moat.Vm.Guest;

/// <summary>What the agent does to the guest before it talks to the host; each step the least the container tier needs.</summary>
static class GuestSetup
{
    /// <summary>The modules the initramfs carries, in load order (dependencies first), one file name a line.</summary>
    public const string ModuleList = "/lib/modules/moat.load";

    public static void Prepare()
    {
        Mount("devtmpfs", "/dev", "devtmpfs", Libc.MS_NOSUID, "mode=0755");
        Mount("proc", "/proc", "proc", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
        Mount("sysfs", "/sys", "sysfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
        LoadModules();
        LeaveRootfs();
        Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
        // Every controller the kernel has, for the containers below the root (the v2 lane does the same).
        if (Libc.TryReadText("/sys/fs/cgroup/cgroup.controllers") is { } controllers)
            foreach (var controller in controllers.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                try
                {
                    Libc.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", "+" + controller);
                }
                catch (SyscallException)
                {
                }
        Directory.CreateDirectory(GuestAgent.SharesDirectory);
    }

    static void Mount(string source, string target, string type, ulong flags, string? data)
    {
        Directory.CreateDirectory(target);
        if (Libc.mount(source, target, type, flags, data) < 0 && Errors.LastErrno != Errors.EBUSY)
            throw new SyscallException("mount", Errors.LastErrno, target);
    }

    static void LoadModules()
    {
        if (Libc.TryReadText(ModuleList) is not { } list)
            return; // a kernel with everything built in
        // A module's parameters on the kernel's command line (virtio_mmio.device=..., which QEMU's
        // microvm writes there for each device) are modprobe's to pass: here, ours.
        var cmdline = (Libc.TryReadText("/proc/cmdline") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var file in list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var path = Path.Combine("/lib/modules", file);
            var name = file[..file.IndexOf(".ko", StringComparison.Ordinal)];
            var parameters = string.Join(' ', cmdline.Where(a => a.StartsWith(name + ".", StringComparison.Ordinal)).Select(a => a[(name.Length + 1)..]));
            using var module = Libc.Open(path, Libc.O_RDONLY);
            Libc.LoadModule(module, parameters, path);
        }
    }

    /// <summary>
    /// The initramfs is the kernel's rootfs, the one mount pivot_root cannot leave (it has no
    /// parent), and the container tier pivots into every container's root. A recursive bind of /
    /// moved over / and chrooted into has a parent: pivot_root then works below it, with no copy of
    /// the initramfs (the v2 lane's init copies itself into a tmpfs instead).
    /// </summary>
    static void LeaveRootfs()
    {
        Directory.CreateDirectory("/sysroot");
        Errors.Check(Libc.mount("/", "/sysroot", null, Libc.MS_BIND | Libc.MS_REC, null), "mount", "bind / on /sysroot");
        Errors.Check(Libc.chdir("/sysroot"), "chdir", "/sysroot");
        Errors.Check(Libc.mount(".", "/", null, Libc.MS_MOVE, null), "mount", "move /sysroot to /");
        Errors.Check(Libc.chroot("."), "chroot", "/sysroot");
        Errors.Check(Libc.chdir("/"), "chdir", "/");
    }

    /// <summary>The virtio-serial port of that name (its /dev node, named vportNpM by devtmpfs), waiting for the driver to find it.</summary>
    public static FileDescriptor OpenPort(string name)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (Directory.Exists("/sys/class/virtio-ports"))
                foreach (var port in Directory.EnumerateDirectories("/sys/class/virtio-ports"))
                    if (Libc.TryReadText(Path.Combine(port, "name"))?.Trim() == name && File.Exists("/dev/" + Path.GetFileName(port)))
                        return Libc.Open("/dev/" + Path.GetFileName(port), Libc.O_RDWR | Libc.O_NOCTTY);
            if (DateTime.UtcNow > deadline)
                throw new IOException($"no virtio-serial port named {name} (is virtio_console loaded, and did the host give the port?)");
            Thread.Sleep(10);
        }
    }

    /// <summary>Mounts every 9p share the host gave (root filesystem, bind sources) at /run/shares/TAG.</summary>
    public static void MountShares()
    {
        const string drivers = "/sys/bus/virtio/drivers/9pnet_virtio";
        if (!Directory.Exists(drivers))
            throw new IOException("the guest has no 9p transport (9pnet_virtio is not loaded)");
        foreach (var device in Directory.EnumerateDirectories(drivers, "virtio*"))
        {
            if (Libc.TryReadText(Path.Combine(device, "mount_tag"))?.TrimEnd('\0', '\n') is not { Length: > 0 } tag)
                continue;
            var target = Path.Combine(GuestAgent.SharesDirectory, tag);
            if (IsMountPoint(target))
                continue;
            Directory.CreateDirectory(target);
            // msize: 512 KB messages instead of 8 KB; cache=none keeps the host's view and the guest's the same.
            Errors.Check(Libc.mount(tag, target, "9p", Libc.MS_NODEV, "trans=virtio,version=9p2000.L,msize=524288,cache=none"), "mount 9p", tag);
        }
    }

    static bool IsMountPoint(string path) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == path);

    public static void PowerOff()
    {
        Libc.EndMachine();
        // Still here: nothing else can be done; PID 1 must not return.
        while (true)
            Thread.Sleep(Timeout.Infinite);
    }
}
