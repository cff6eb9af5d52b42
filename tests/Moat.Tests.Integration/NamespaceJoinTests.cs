using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>User namespaces with id mappings, and namespaces joined by path.</summary>
public sealed class NamespaceJoinTests
{
    [Fact]
    public void UserNamespaceMapsRootToAnUnprivilegedHostId()
    {
        using var bundle = new TestBundle("sleep", "1000");
        bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        bundle.Spec.Linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 200000, Size = 65536 }];
        bundle.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 200000, Size = 65536 }];
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        var pid = TestBundle.State(id).GetProperty("pid").GetInt32();
        MoatCli.Run("start", id).Ok();
        Assert.Equal("0 200000 65536", string.Join(' ', File.ReadAllText($"/proc/{pid}/uid_map").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        var status = File.ReadAllLines($"/proc/{pid}/status");
        Assert.Contains(status, l => l.StartsWith("Uid:") && l.Contains("200000"));

        bundle.Args("sh", "-c", "id -u; cat /proc/self/uid_map | tr -s ' '; grep CapEff /proc/self/status");
        var inside = bundle.Run().Ok().Stdout;
        Assert.StartsWith("0\n 0 200000 65536\n", inside);
        Assert.Contains("CapEff:\t0000000020000420", inside);
    }

    [Fact]
    public void JoiningNetworkAndPidNamespacesByPathSharesThem()
    {
        using var first = new TestBundle("sleep", "1000");
        var firstId = first.NewId();
        first.Create(firstId).Ok();
        MoatCli.Run("start", firstId).Ok();
        var firstPid = TestBundle.State(firstId).GetProperty("pid").GetInt32();

        using var second = new TestBundle("sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/pid; ps -o pid,comm | grep -c sleep");
        foreach (var ns in second.Spec.Linux!.Namespaces!)
            if (ns.Type is "network" or "pid")
                ns.Path = $"/proc/{firstPid}/ns/{(ns.Type == "network" ? "net" : "pid")}";
        var output = second.Run().Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new FileInfo($"/proc/{firstPid}/ns/net").LinkTarget, output[0]);
        Assert.Equal(new FileInfo($"/proc/{firstPid}/ns/pid").LinkTarget, output[1]);
        Assert.Equal("1", output[2]); // the first container's sleep is visible
    }

    /// <summary>
    /// lo is brought up only in a network namespace the container creates: a joined one is someone
    /// else's to configure (here its owner took lo down again, and the joiner leaves it so).
    /// </summary>
    [Fact]
    public void AJoinedNetworkNamespaceKeepsItsLoopbackAsItIs()
    {
        using var first = new TestBundle("sleep", "1000");
        var firstId = first.NewId();
        first.Create(firstId).Ok();
        var firstPid = TestBundle.State(firstId).GetProperty("pid").GetInt32();
        MoatCli.Exec("/usr/bin/nsenter", [$"--net=/proc/{firstPid}/ns/net", "/usr/sbin/ip", "link", "set", "lo", "down"]).Ok();

        using var second = new TestBundle("cat", "/sys/class/net/lo/flags");
        second.Spec.Linux!.Namespaces!.Single(n => n.Type == "network").Path = $"/proc/{firstPid}/ns/net";
        var flags = Convert.ToInt32(second.Run().Ok().Stdout.Trim(), 16);
        Assert.Equal(0, flags & 1); // IFF_UP
    }

    /// <summary>runtime-spec: a namespace not listed is inherited. Without a mount namespace nothing is mounted (it would land in ours), the root is only a chroot.</summary>
    [Fact]
    public void WithoutMountNamespaceTheContainerSharesOursAndIsChrootedOnly()
    {
        using var bundle = new TestBundle("sleep", "1000");
        bundle.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "mount");
        // (Masked and read-only paths need a mount namespace: refused without one, as runc does.)
        bundle.Spec.Linux.MaskedPaths = null;
        bundle.Spec.Linux.ReadonlyPaths = null;
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        var pid = TestBundle.State(id).GetProperty("pid").GetInt32();
        Assert.Equal(new FileInfo("/proc/self/ns/mnt").LinkTarget, new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget);
        Assert.Equal(bundle.Rootfs, new DirectoryInfo($"/proc/{pid}/root").LinkTarget);
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(bundle.Directory));
        MoatCli.Run("start", id).Ok();

        bundle.Args("sh", "-c", "ls /bin/busybox");
        Assert.Equal("/bin/busybox\n", bundle.Run().Ok().Stdout);
    }

    /// <summary>A mount namespace joined by path is the container's: its root is built in it, as runc does.</summary>
    [Fact]
    public void JoiningAMountNamespaceByPathBuildsTheRootInIt()
    {
        using var holder = System.Diagnostics.Process.Start("unshare", ["--mount", "sleep", "1000"]);
        try
        {
            var nsPath = $"/proc/{holder.Id}/ns/mnt";
            Wait.Until(() => new FileInfo(nsPath).LinkTarget != new FileInfo("/proc/self/ns/mnt").LinkTarget, "unshare to enter its mount namespace");
            using var bundle = new TestBundle("sh", "-c", "readlink /proc/self/ns/mnt; cat /etc/moat-marker");
            File.WriteAllText(Path.Combine(bundle.Rootfs, "etc", "moat-marker"), "inside the bundle's root\n");
            bundle.Spec.Linux!.Namespaces!.Single(n => n.Type == "mount").Path = nsPath;
            var output = bundle.Run().Ok().Stdout;
            Assert.Equal($"{new FileInfo(nsPath).LinkTarget}\ninside the bundle's root\n", output);
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
    }
}
