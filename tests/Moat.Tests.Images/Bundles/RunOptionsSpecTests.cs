using Moat.Images.Bundles;
using Moat.Images.Model;
using Moat.Oci;

namespace Moat.Tests.Images.Bundles;

/// <summary>The config.json each of run's options produces (BundleBuilder over the secure defaults).</summary>
public sealed class RunOptionsSpecTests
{
    static readonly ImageConfig Image = new() { Architecture = "amd64", Os = "linux", Config = new ContainerConfig { Cmd = ["/bin/sh"] } };

    static Spec Build(BundleOptions options)
    {
        using var root = new TestRootfs().WithAccounts();
        return BundleBuilder.Build(Image, root.Rootfs, options, root.Bundle);
    }

    [Fact]
    public void TheDefaultsStaySecure()
    {
        var spec = Build(new BundleOptions());
        Assert.True(spec.Process!.NoNewPrivileges);
        Assert.NotNull(spec.Linux!.Seccomp);
        Assert.Contains("/proc/kcore", spec.Linux.MaskedPaths!);
        Assert.Contains("/proc/sys", spec.Linux.ReadonlyPaths!);
        Assert.Equal(2048, spec.Linux.Resources!.Pids!.Limit);
        Assert.Equal(Capabilities.DockerDefault, spec.Process.Capabilities!.Bounding!);
        Assert.Equal(["mount", "network", "uts", "pid", "ipc", "cgroup"], spec.Linux.Namespaces!.Select(n => n.Type));
        Assert.Null(spec.Linux.Devices);
        Assert.Null(spec.Linux.Resources.Memory);
        Assert.Null(spec.Linux.Resources.Cpu);
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
    }

    [Fact]
    public void PrivilegedIsDockersPrivileged()
    {
        var spec = Build(new BundleOptions { Privileged = true });
        Assert.Equal(Capabilities.Names, spec.Process!.Capabilities!.Bounding!);
        Assert.Null(spec.Linux!.Seccomp);
        Assert.Null(spec.Linux.MaskedPaths);
        Assert.Null(spec.Linux.ReadonlyPaths);
        var allowAll = Assert.Single(spec.Linux.Resources!.Devices!);
        Assert.Equal((true, null, null, null, "rwm"), (allowAll.Allow, allowAll.Type, allowAll.Major, allowAll.Minor, allowAll.Access));
        Assert.Contains(spec.Linux.Devices!, d => d.Path == "/dev/null" && d.Type == "c" && d.Major == 1 && d.Minor == 3);
        Assert.DoesNotContain(spec.Linux.Devices!, d => d.Path.StartsWith("/dev/pts/", StringComparison.Ordinal) || d.Path == "/dev/console");
        Assert.Contains("rw", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
        Assert.DoesNotContain("ro", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
    }

    [Fact]
    public void SecurityOptions()
    {
        var custom = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW" };
        var spec = Build(new BundleOptions { NoNewPrivileges = false, Seccomp = custom, AppArmorProfile = "my-profile", SelinuxLabel = "system_u:system_r:spc_t:s0", MaskPaths = ["/proc/cpuinfo"], UnmaskPaths = ["/proc/kcore", "/proc/sys"] });
        Assert.False(spec.Process!.NoNewPrivileges);
        Assert.Same(custom, spec.Linux!.Seccomp);
        Assert.Equal(("my-profile", "system_u:system_r:spc_t:s0"), (spec.Process.ApparmorProfile, spec.Process.SelinuxLabel));
        Assert.Contains("/proc/cpuinfo", spec.Linux.MaskedPaths!);
        Assert.DoesNotContain("/proc/kcore", spec.Linux.MaskedPaths!);
        Assert.DoesNotContain("/proc/sys", spec.Linux.ReadonlyPaths!);
        Assert.Null(Build(new BundleOptions { SeccompUnconfined = true }).Linux!.Seccomp);
        Assert.Null(Build(new BundleOptions { AppArmorProfile = "unconfined" }).Process!.ApparmorProfile);
        Assert.Null(Build(new BundleOptions { SelinuxLabel = "a:b:c:d", LabelDisabled = true }).Process!.SelinuxLabel);
        var unmasked = Build(new BundleOptions { UnmaskPaths = ["ALL"] }).Linux!;
        Assert.Null(unmasked.MaskedPaths);
        Assert.Null(unmasked.ReadonlyPaths);
    }

    [Fact]
    public void AddedCapabilitiesReachTheProfile()
    {
        var spec = Build(new BundleOptions { CapAdd = ["SYS_ADMIN"] });
        Assert.Contains("CAP_SYS_ADMIN", spec.Process!.Capabilities!.Bounding!);
        Assert.Contains(spec.Linux!.Seccomp!.Syscalls!, s => s.Names.Contains("mount"));
    }

    [Fact]
    public void Resources()
    {
        var r = Build(new BundleOptions
        {
            MemoryLimit = 512L << 20, MemoryReservation = 256L << 20, CpuQuota = 150_000, CpuPeriod = 100_000, CpuShares = 512,
            CpusetCpus = "0-1", CpusetMems = "0", PidsLimit = 0,
        }).Linux!.Resources!;
        Assert.Equal((512L << 20, 1024L << 20, 256L << 20), (r.Memory!.Limit, r.Memory.Swap, r.Memory.Reservation));
        Assert.Equal((150_000L, 100_000UL, 512UL, "0-1", "0"), (r.Cpu!.Quota, r.Cpu.Period, r.Cpu.Shares, r.Cpu.Cpus, r.Cpu.Mems));
        Assert.Null(r.Pids);
        Assert.Equal(-1L, Build(new BundleOptions { MemoryLimit = 1L << 30, MemorySwap = -1 }).Linux!.Resources!.Memory!.Swap);
    }

    [Fact]
    public void UlimitsReplaceTheDefaultNofile()
    {
        var rlimits = Build(new BundleOptions { Ulimits = [new Ulimit("RLIMIT_NOFILE", 1024, 2048), new Ulimit("RLIMIT_NPROC", 64, 64)] }).Process!.Rlimits!;
        Assert.Equal([("RLIMIT_NOFILE", 1024UL, 2048UL), ("RLIMIT_NPROC", 64UL, 64UL)], rlimits.Select(r => (r.Type, r.Soft, r.Hard)));
    }

    [Fact]
    public void DevicesAndTheirCgroupRules()
    {
        var spec = Build(new BundleOptions
        {
            Devices = [new DeviceNode("/dev/xvdc", "c", 1, 3, 0x1B6, 0, 0, "rw") { HostPath = "/dev/null" }],
            DeviceCgroupRules = [new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 200, Access = "rwm" }],
        });
        var node = Assert.Single(spec.Linux!.Devices!);
        Assert.Equal(("/dev/xvdc", "c", 1L, 3L, 0x1B6u), (node.Path, node.Type, node.Major, node.Minor, node.FileMode));
        var rules = spec.Linux.Resources!.Devices!;
        Assert.False(rules[0].Allow); // deny all first
        Assert.Contains(rules, r => r.Allow && r.Major == 1 && r.Minor == 3 && r.Access == "rw");
        Assert.Equal(200L, rules[^1].Minor);
    }

    [Fact]
    public void HostNamespacesAndUserNamespaces()
    {
        var spec = Build(new BundleOptions { HostNamespaces = [NamespaceType.Network, NamespaceType.Uts, NamespaceType.Pid] });
        Assert.Equal(["mount", "ipc", "cgroup"], spec.Linux!.Namespaces!.Select(n => n.Type));
        Assert.Null(spec.Hostname);
        Assert.Contains("HOSTNAME=" + Environment.MachineName, spec.Process!.Env!);
        Assert.Throws<BundleException>(() => Build(new BundleOptions { HostNamespaces = [NamespaceType.Uts], Hostname = "x" }));

        var userns = Build(new BundleOptions
        {
            UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 200000, Size = 65536 }],
            GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 300000, Size = 65536 }],
        }).Linux!;
        Assert.Contains(userns.Namespaces!, n => n.Type == NamespaceType.User);
        Assert.Equal(200000u, userns.UidMappings![0].HostId);
        Assert.Equal(300000u, userns.GidMappings![0].HostId);
    }

    [Fact]
    public void MountsShmAndSysctls()
    {
        var spec = Build(new BundleOptions
        {
            ShmSize = 128L << 20,
            Sysctls = new Dictionary<string, string> { ["net.core.somaxconn"] = "1024" },
            Mounts =
            [
                new Mount { Destination = "/srv/app/cache", Type = "tmpfs", Source = "tmpfs" },
                new Mount { Destination = "/srv", Type = "bind", Source = "/tmp", Options = ["rbind", "rprivate", "ro"] },
                new Mount { Destination = "/dev/mqueue", Type = "tmpfs", Source = "tmpfs" },
            ],
            OomScoreAdj = 100,
            GroupAdd = ["staff", "44"],
        });
        Assert.Contains("size=131072k", spec.Mounts!.Single(m => m.Destination == "/dev/shm").Options!);
        // Parents first; the run's /dev/mqueue replaced the default one.
        var destinations = spec.Mounts!.Select(m => m.Destination).ToList();
        Assert.True(destinations.IndexOf("/srv") < destinations.IndexOf("/srv/app/cache"));
        Assert.Equal("tmpfs", spec.Mounts!.Single(m => m.Destination == "/dev/mqueue").Type);
        Assert.Equal("1024", spec.Linux!.Sysctl!["net.core.somaxconn"]);
        Assert.Equal(100, spec.Process!.OomScoreAdj);
        Assert.Equal([10u, 50u, 44u], spec.Process.User.AdditionalGids!); // root is in wheel (10) in the test group file
    }

    [Fact]
    public void InitPutsTheReaperFirst()
    {
        var reaper = Path.GetTempFileName();
        try
        {
            var spec = Build(new BundleOptions { Init = true, InitBinary = reaper, Command = ["sleep", "1"] });
            Assert.Equal([BundleOptions.InitPathInContainer, "--", "sleep", "1"], spec.Process!.Args!);
            var mount = spec.Mounts!.Single(m => m.Destination == BundleOptions.InitPathInContainer);
            Assert.Equal(("bind", reaper), (mount.Type, mount.Source));
            Assert.Contains("ro", mount.Options!);
        }
        finally
        {
            File.Delete(reaper);
        }
        Assert.Equal("--init needs Moat's reaper, but /nonexistent/moat-init does not exist (build it with `make build`)",
            Assert.Throws<BundleException>(() => Build(new BundleOptions { Init = true, InitBinary = "/nonexistent/moat-init" })).Message);
    }
}
