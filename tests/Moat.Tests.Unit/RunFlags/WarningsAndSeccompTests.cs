using Moat.Engine.Run;
using Moat.Engine.Run.Flags;
using Moat.Images.Bundles;
using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.RunFlags;

public class WarningsAndSeccompTests
{
    static List<string> Warn(BundleOptions bundle, params MountRequest[] mounts) =>
        RunWarnings.For(new RunRequest { Image = "img", Bundle = bundle, Mounts = mounts });

    static MountRequest BindOf(string source, string target = "/x") => MountFlags.ParseVolume($"{source}:{target}");

    [Fact]
    public void NothingLoosenedNothingSaid()
    {
        Assert.Empty(Warn(new BundleOptions()));
        Assert.Empty(Warn(new BundleOptions { CapAdd = ["NET_BIND_SERVICE"], CapDrop = ["ALL"] }, BindOf("/srv/data")));
    }

    [Theory]
    [InlineData("--privileged gives the container every capability, every host device, a writable /sys and no seccomp filter or masked paths: a process in it can take over the host")]
    public void Privileged(string warning) => Assert.Equal([warning], Warn(new BundleOptions { Privileged = true }));

    [Fact]
    public void EachLooseningFlagHasItsSentence()
    {
        Assert.Equal(["--cap-add SYS_ADMIN gives the container CAP_SYS_ADMIN: mounts, namespaces and most of root's power over the kernel, the usual way out of a container"],
            Warn(new BundleOptions { CapAdd = ["SYS_ADMIN"] }));
        Assert.Equal(["--cap-add sys_ptrace gives the container CAP_SYS_PTRACE: tracing and reading the memory of other processes"], Warn(new BundleOptions { CapAdd = ["sys_ptrace"] }));
        Assert.StartsWith("--cap-add ALL gives the container every capability", Assert.Single(Warn(new BundleOptions { CapAdd = ["ALL"] })));
        Assert.Equal(["--security-opt seccomp=unconfined turns the system call filter off: the container can use every kernel interface, including those behind past container escapes"],
            Warn(new BundleOptions { SeccompUnconfined = true }));
        Assert.Equal(["--security-opt apparmor=unconfined runs the container without an AppArmor profile"], Warn(new BundleOptions { AppArmorProfile = "unconfined" }));
        Assert.StartsWith("--security-opt label=disable", Assert.Single(Warn(new BundleOptions { LabelDisabled = true })));
        Assert.Equal(["--security-opt no-new-privileges=false lets setuid programs and file capabilities in the container raise its privileges"],
            Warn(new BundleOptions { NoNewPrivileges = false }));
        Assert.StartsWith("--pids-limit without a limit", Assert.Single(Warn(new BundleOptions { PidsLimit = 0 })));
        Assert.StartsWith("--security-opt unmask=ALL exposes kernel files", Assert.Single(Warn(new BundleOptions { UnmaskPaths = ["ALL"] })));
        Assert.Equal(4, Warn(new BundleOptions { HostNamespaces = [NamespaceType.Network, NamespaceType.Pid, NamespaceType.Ipc, NamespaceType.Uts] }).Count);
        Assert.StartsWith("--network host shares the host's network stack", Assert.Single(Warn(new BundleOptions { HostNamespaces = [NamespaceType.Network] })));
        Assert.Equal(["--userns host runs the container without a user namespace: its root is the host's root"],
            RunWarnings.For(new RunRequest { Image = "i", Bundle = new BundleOptions() }, userNamespaceByDefault: true, userNamespaceHostAsked: true));
    }

    [Theory]
    [InlineData("/", "the bind mount of / at /x gives the container the host's whole filesystem")]
    [InlineData("/var/run/docker.sock", "the bind mount of /var/run/docker.sock at /x gives the container a container engine's socket or state: with it the container can start privileged containers and control the host")]
    [InlineData("/run/podman/podman.sock", "the bind mount of /run/podman/podman.sock at /x gives the container a container engine's socket or state: with it the container can start privileged containers and control the host")]
    [InlineData("/run/containerd/containerd.sock", "the bind mount of /run/containerd/containerd.sock at /x gives the container a container engine's socket or state: with it the container can start privileged containers and control the host")]
    [InlineData("/run/moat/", "the bind mount of /run/moat at /x gives the container a container engine's socket or state: with it the container can start privileged containers and control the host")]
    [InlineData("/proc", "the bind mount of the host's /proc at /x exposes host kernel interfaces that a container's own proc keeps from it")]
    [InlineData("/sys/kernel", "the bind mount of the host's /sys/kernel at /x exposes host kernel interfaces that a container's own sys keeps from it")]
    [InlineData("/dev", "the bind mount of the host's /dev at /x exposes host kernel interfaces that a container's own dev keeps from it")]
    [InlineData("/etc", "the bind mount of the host's /etc at /x lets the container read and change host system files")]
    public void BindMountsOfHostInterfaces(string source, string warning) => Assert.Equal([warning], Warn(new BundleOptions(), BindOf(source)));

    [Fact]
    public void ResolvedBindMountsAndDisksToo()
    {
        Assert.Single(Warn(new BundleOptions { Mounts = [new Mount { Destination = "/x", Type = "bind", Source = "/var/run/docker.sock", Options = ["rbind"] }] }));
        var disk = new DeviceNode("/dev/sda", "b", 8, 0, 0x1B0, 0, 6, "rwm");
        Assert.Equal(["--device /dev/sda gives the container raw access to a host disk: it can read and write everything on it, past every file permission"],
            Warn(new BundleOptions { Devices = [disk] }));
        Assert.Empty(Warn(new BundleOptions { Devices = [new DeviceNode("/dev/fuse", "c", 10, 229, 0x1B6, 0, 0, "rwm")] }));
    }

    const string DockerProfile = """
        {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "archMap": [
            { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
            { "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"] }
          ],
          "syscalls": [
            { "names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW" },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 8, "op": "SCMP_CMP_EQ" } ] },
            { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
            { "names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" } ], "excludes": { "caps": ["CAP_SYS_ADMIN"], "arches": ["s390x"] } },
            { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64"] } },
            { "names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "4.8" } },
            { "name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "comment": "the old singular form" }
          ]
        }
        """;

    [Fact]
    public void DockersProfileFormatIsResolvedForTheContainer()
    {
        var plain = SeccompProfileFile.Convert(DockerProfile, "p.json", new HashSet<string> { "CAP_CHOWN" }, "amd64", new Version(6, 1));
        Assert.Equal(("SCMP_ACT_ERRNO", 1u), (plain.DefaultAction, plain.DefaultErrnoRet));
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], plain.Architectures!);
        Assert.Equal(["read", "personality", "clone", "arch_prctl", "ptrace", "mkdir"], plain.Syscalls!.Select(s => s.Names[0]));
        Assert.Equal(("SCMP_CMP_MASKED_EQ", 2114060288UL), (plain.Syscalls![2].Args![0].Op, plain.Syscalls![2].Args![0].Value));
        Assert.Equal(13u, plain.Syscalls![5].ErrnoRet);

        var admin = SeccompProfileFile.Convert(DockerProfile, "p.json", new HashSet<string> { "CAP_SYS_ADMIN" }, "arm64", new Version(4, 4));
        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], admin.Architectures!);
        Assert.Equal(["read", "personality", "mount", "mkdir"], admin.Syscalls!.Select(s => s.Names[0]));
    }

    [Theory]
    [InlineData("{", "--security-opt seccomp=p.json: not JSON (")]
    [InlineData("{}", "--security-opt seccomp=p.json: defaultAction is missing")]
    [InlineData("{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "--security-opt seccomp=p.json: unknown action \"SCMP_ACT_MAYBE\"")]
    [InlineData("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_Z80\"]}", "--security-opt seccomp=p.json: unknown architecture \"SCMP_ARCH_Z80\"")]
    [InlineData("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}", "--security-opt seccomp=p.json: unknown operator \"SCMP_CMP_ABOUT\"")]
    [InlineData("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}", "--security-opt seccomp=p.json: a rule names no system call")]
    public void BadProfiles(string json, string error) =>
        Assert.StartsWith(error, Assert.Throws<RunFlagException>(() => SeccompProfileFile.Convert(json, "p.json", new HashSet<string>(), "amd64", new Version(6, 1))).Message);

    [Fact]
    public void MobysOwnDefaultProfileWouldLoad()
    {
        // The same shape as Moat's built-in profile: what `moat seccomp` and docker write round-trips.
        var ours = Moat.Oci.Profiles.DefaultSeccompProfile.For(new HashSet<string>(Capabilities.DockerDefault), "amd64");
        var json = System.Text.Encoding.UTF8.GetString(Moat.Oci.Json.SpecJson.ToUtf8Bytes(ours));
        var back = SeccompProfileFile.Convert(json, "default.json", new HashSet<string>(Capabilities.DockerDefault), "amd64", new Version(6, 1));
        Assert.Equal(ours.Syscalls!.Count, back.Syscalls!.Count);
        Assert.Equal(ours.Architectures, back.Architectures);
    }
}
