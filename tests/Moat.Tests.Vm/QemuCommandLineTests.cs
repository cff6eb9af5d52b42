using Moat.Oci;
using Moat.Vm.Host;

namespace Moat.Tests.Vm;

public class QemuCommandLineTests
{
    static VmMachine Machine(string accel = "tcg", params Share[] shares) =>
        new("/k/vmlinuz-6.1.0-57-amd64", "/d/agent.cpio", 224, 2, accel, "/run/moat/c1/a.sock", "/run/moat/c1/console.log",
            shares.Length > 0 ? shares : [new Share("rootfs", "/b/rootfs", ReadOnly: true)]);

    static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];

    [Fact]
    public void EachInterfaceIsAVirtioNicOnATapDescriptorWithTheVethsMac()
    {
        var nics = new[]
        {
            new Moat.Vm.Protocol.GuestInterface("eth0", "02:42:0a:58:00:05", 1500, [], []),
            new Moat.Vm.Protocol.GuestInterface("eth1", "02:42:0a:59:00:02", 1500, [], []),
        };
        var args = QemuCommandLine.Build(Machine() with { Nics = nics });
        var netdevs = args.Select((a, i) => (a, i)).Where(p => p.a == "-netdev").Select(p => args[p.i + 1]).ToList();
        Assert.Equal(["tap,id=net0,fd=3", "tap,id=net1,fd=4"], netdevs);
        Assert.Contains("virtio-net-device,netdev=net0,mac=02:42:0a:58:00:05", args);
        Assert.Contains("virtio-net-device,netdev=net1,mac=02:42:0a:59:00:02", args);
        // Without a network namespace to join: no NIC at all.
        Assert.DoesNotContain("-netdev", QemuCommandLine.Build(Machine()));
    }

    [Fact]
    public void AMicrovmWithTheAgentsPortAndTheRootfsShare()
    {
        var args = QemuCommandLine.Build(Machine());
        Assert.Equal("qemu-system-x86_64", args[0]);
        Assert.StartsWith("microvm,", After(args, "-M"));
        Assert.Equal("tcg,tb-size=32", After(args, "-accel"));
        Assert.Equal("224M", After(args, "-m"));
        Assert.Equal("2", After(args, "-smp"));
        Assert.Equal("/k/vmlinuz-6.1.0-57-amd64", After(args, "-kernel"));
        Assert.Equal("/d/agent.cpio", After(args, "-initrd"));
        Assert.Contains("socket,id=agent,path=/run/moat/c1/a.sock,server=on,wait=off", args);
        Assert.Contains("virtserialport,chardev=agent,name=run.moat.agent", args);
        Assert.Contains("local,id=fsrootfs,path=/b/rootfs,security_model=passthrough,readonly=on", args);
        Assert.Contains("virtio-9p-device,fsdev=fsrootfs,mount_tag=rootfs", args);
        Assert.Contains("-nodefaults", args);
        Assert.Contains("-no-reboot", args);
    }

    [Fact]
    public void TcgGetsTheClockFixesAndKvmDoesNot()
    {
        var tcg = After(QemuCommandLine.Build(Machine("tcg")), "-append");
        Assert.Contains("tsc_early_khz=2000000 tsc=reliable no_timer_check", tcg);
        Assert.Contains("MOAT_VM_AGENT=1", tcg);
        Assert.DoesNotContain(" -- ", tcg);
        var kvm = QemuCommandLine.Build(Machine("kvm"));
        Assert.DoesNotContain("tsc_early_khz", After(kvm, "-append"));
        Assert.Equal("host", After(kvm, "-cpu"));
    }

    [Fact]
    public void CommasInAPathAreEscapedForQemu()
    {
        var args = QemuCommandLine.Build(Machine("tcg", new Share("rootfs", "/b/a,b", false)));
        Assert.Contains("local,id=fsrootfs,path=/b/a,,b,security_model=passthrough", args);
    }

    [Theory]
    [InlineData(null, 256)]
    [InlineData(32L << 20, 128)]
    [InlineData(128L << 20, 224)]
    [InlineData((1L << 30) + 1, 1025 + 96)]
    public void MemoryIsTheLimitPlusHeadroom(long? limit, int expected)
    {
        var resources = new LinuxResources { Memory = new LinuxMemory { Limit = limit } };
        Assert.Equal(expected, VmMachine.MemoryFor(resources));
    }

    [Theory]
    [InlineData(null, null, null, 1)]
    [InlineData(150000L, 100000UL, null, 2)]
    [InlineData(50000L, null, null, 1)]
    [InlineData(null, null, "0-2,5", 4)]
    [InlineData(900000L, 100000UL, null, 8)]
    public void VcpusFollowTheQuota(long? quota, ulong? period, string? cpus, int expected)
    {
        var resources = new LinuxResources { Cpu = new LinuxCpu { Quota = quota, Period = period, Cpus = cpus } };
        Assert.Equal(expected, VmMachine.CpusFor(resources, hostCpus: 8));
    }
}
