using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// moat-runtime started by a user without root (issue 22, item 5): a bundle as `spec --rootless`
/// writes it runs, its state lives under the user's $XDG_RUNTIME_DIR, subordinate ranges go through
/// newuidmap/newgidmap, and limits the user has no cgroup for are refused by name.
/// </summary>
public sealed class RootlessTests : IClassFixture<RootlessUser>
{
    readonly RootlessUser user;

    public RootlessTests(RootlessUser user) => this.user = user;

    TestBundle RootlessBundle(params string[] args)
    {
        var bundle = new TestBundle(args);
        var rootless = DefaultSpec.Create(rootless: true);
        bundle.Spec.Linux = rootless.Linux;
        bundle.Spec.Mounts = rootless.Mounts;
        bundle.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = user.Uid, Size = 1 }];
        bundle.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = user.Gid, Size = 1 }];
        return bundle;
    }

    [Fact]
    public void ASpecRootlessBundleRunsAsAUserWithoutRoot()
    {
        using var bundle = RootlessBundle("sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/setgroups");
        bundle.Write();
        var id = bundle.NewId("rl");
        var run = user.Runtime("run", "--bundle", bundle.Directory, id).Ok();
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("0", lines[0]);
        Assert.Equal(["0", user.Uid.ToString(), "1"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // Mapping its own gid as a user without root needs setgroups denied first (the kernel's rule).
        Assert.Equal("deny", lines[2]);
        Assert.False(Directory.Exists(user.StateDirectory(id)), "run left its state");
    }

    [Fact]
    public void StateLivesUnderTheUsersRuntimeDirectoryAndBelongsToIt()
    {
        using var bundle = RootlessBundle("sleep", "100");
        bundle.Write();
        var id = bundle.NewId("rl");
        user.Runtime("create", "--bundle", bundle.Directory, id).Ok();
        try
        {
            var state = Path.Combine(user.StateDirectory(id), "state.json");
            Assert.True(File.Exists(state), $"no state at {state}");
            Assert.Equal(user.Uid, StatUid(state));
            Assert.Contains(id, user.Runtime("list").Ok().Stdout);
            Assert.Contains(user.Name, user.Runtime("state", id).Ok().Stdout);
        }
        finally
        {
            user.Runtime("delete", "--force", id).Ok();
        }
        Assert.False(Directory.Exists(user.StateDirectory(id)));
    }

    [Fact]
    public void SubordinateRangesAreMappedThroughTheSetuidHelpers()
    {
        Assert.True(File.Exists("/usr/bin/newuidmap"), "newuidmap is missing: scripts/install-deps.sh installs uidmap");
        Assert.True(user.SubordinateUid is not null && user.SubordinateGid is not null, "useradd gave the test user no subordinate range");
        using var bundle = RootlessBundle("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; chown 1000:1000 /tmp && echo chowned");
        bundle.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = user.Uid, Size = 1 }, new LinuxIdMapping { ContainerId = 1, HostId = user.SubordinateUid!.Value, Size = 65536 }];
        bundle.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = user.Gid, Size = 1 }, new LinuxIdMapping { ContainerId = 1, HostId = user.SubordinateGid!.Value, Size = 65536 }];
        // The container's root may chown within the mapping (CAP_CHOWN in its user namespace): a tmpfs of its own.
        var caps = bundle.Spec.Process!.Capabilities!;
        caps.Bounding = [.. caps.Bounding ?? [], "CAP_CHOWN"];
        caps.Effective = [.. caps.Effective ?? [], "CAP_CHOWN"];
        caps.Permitted = [.. caps.Permitted ?? [], "CAP_CHOWN"];
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });
        bundle.Write();
        var run = user.Runtime("run", "--bundle", bundle.Directory, bundle.NewId("rl")).Ok();
        Assert.Contains($"1 {user.SubordinateUid} 65536", Normalize(run.Stdout));
        Assert.Contains($"1 {user.SubordinateGid} 65536", Normalize(run.Stdout));
        Assert.Contains("chowned", run.Stdout);
    }

    [Fact]
    public void ARangeTheUserDoesNotOwnIsRefusedByTheHelperWithTheReason()
    {
        using var bundle = RootlessBundle("true");
        bundle.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 0, Size = 1 }];
        bundle.Write();
        var id = bundle.NewId("rl");
        var run = user.Runtime("run", "--bundle", bundle.Directory, id);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("newuidmap refused the map 0 0 1", run.Stderr);
        Assert.False(Directory.Exists(user.StateDirectory(id)), "a refused create left its state");
    }

    [Fact]
    public void ALimitWithoutADelegatedCgroupIsRefusedNotDropped()
    {
        using var bundle = RootlessBundle("true");
        bundle.Spec.Linux!.Resources = new LinuxResources { Pids = new LinuxPids { Limit = 10 } };
        bundle.Write();
        var id = bundle.NewId("rl");
        var run = user.Runtime("run", "--bundle", bundle.Directory, id);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("linux.resources.pids.limit is set", run.Stderr);
        Assert.Contains("cannot write the cgroup", run.Stderr);
        Assert.Contains("delegate", run.Stderr);
        Assert.False(Directory.Exists(user.StateDirectory(id)), "a refused create left its state");
    }

    [Fact]
    public void ALimitInACgroupRootHandedToTheUserIsApplied()
    {
        // A v1 pids directory made by root and chowned to the user (this host has no systemd to delegate v2).
        var hierarchy = Directory.GetDirectories("/sys/fs/cgroup").FirstOrDefault(d => File.Exists(Path.Combine(d, "pids.max")) || Path.GetFileName(d) == "pids");
        if (hierarchy is null || File.Exists("/sys/fs/cgroup/cgroup.controllers"))
            Assert.Fail("this test needs a v1 pids hierarchy (the host of these tests has one; the cgroup v2 lane tests delegation apart)");
        var parent = Path.Combine(hierarchy, $"moat-rl-{Environment.ProcessId}");
        Directory.CreateDirectory(parent);
        try
        {
            MoatCli.Exec("/bin/chown", ["-R", $"{user.Uid}:{user.Gid}", parent]).Ok();
            using var bundle = RootlessBundle("true");
            bundle.Spec.Linux!.CgroupsPath = $"/moat-rl-{Environment.ProcessId}/ctr";
            bundle.Spec.Linux.Resources = new LinuxResources { Pids = new LinuxPids { Limit = 42 } };
            bundle.Write();
            var id = bundle.NewId("rl");
            user.Runtime("create", "--bundle", bundle.Directory, id).Ok();
            try
            {
                Assert.Equal("42", File.ReadAllText(Path.Combine(parent, "ctr", "pids.max")).Trim());
            }
            finally
            {
                user.Runtime("delete", "--force", id).Ok();
            }
            Assert.False(Directory.Exists(Path.Combine(parent, "ctr")), "delete left the user's cgroup");
        }
        finally
        {
            if (Directory.Exists(Path.Combine(parent, "ctr")))
                Directory.Delete(Path.Combine(parent, "ctr"));
            Directory.Delete(parent);
        }
    }

    static string Normalize(string text) =>
        string.Join('\n', text.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));

    static uint StatUid(string path) => uint.Parse(MoatCli.Exec("/usr/bin/stat", ["-c", "%u", path]).Ok().Stdout.Trim());
}
