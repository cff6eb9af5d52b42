using Moat.Oci;
using Moat.Runtime.Create;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class NamespacePlanTests
{
    const ulong NewPid = 0x20000000, NewNet = 0x40000000, NewNs = 0x20000, NewIpc = 0x8000000,
        NewUts = 0x4000000, NewUser = 0x10000000, NewCgroup = 0x2000000, NewTime = 0x80;

    static Linux With(params (string Type, string? Path)[] namespaces) => new()
    {
        Namespaces = namespaces.Select(n => new LinuxNamespace { Type = n.Type, Path = n.Path }).ToList(),
    };

    [Fact]
    public void OnlyNewNamespacesUseTheClone3FastPath()
    {
        var plan = NamespacePlan.From(With(
            ("pid", null), ("network", null), ("mount", null), ("ipc", null),
            ("uts", null), ("user", null), ("cgroup", null), ("time", null)));

        // With a user namespace, clone3 makes it and the pid namespace; the rest follow once the
        // child is mapped root, so they belong to that root. The cgroup namespace is the init
        // stage's to make, after its cgroup placement.
        Assert.Equal(NewPid | NewUser, plan.CloneFlags);
        Assert.Equal(0UL, plan.UnshareFlags);
        Assert.Equal(NewNet | NewNs | NewIpc | NewUts, plan.LateUnshareFlags);
        Assert.Empty(plan.Joins);
        Assert.False(plan.ForkAfter);
        Assert.True(plan.NewTime);
        Assert.True(plan.NewUser);
        Assert.False(plan.JoinsUser);
        Assert.True(plan.BecomeRoot);
        Assert.True(plan.HasMountNamespace);
        Assert.True(plan.NewMount);
        Assert.True(plan.NewPid);
        Assert.True(plan.NewUts);
        Assert.True(plan.NewNetwork);
        Assert.True(plan.NewCgroup);
    }

    [Fact]
    public void TheCgroupNamespaceIsLeftToTheInitStage()
    {
        var plan = NamespacePlan.From(With(("pid", null), ("network", null), ("mount", null), ("cgroup", null), ("ipc", null)));

        // clone3 makes everything but the cgroup namespace, which the init makes once it is in its
        // cgroups (the runtime says so with a Placed frame).
        Assert.Equal(NewPid | NewNet | NewNs | NewIpc, plan.CloneFlags);
        Assert.Equal(0UL, plan.LateUnshareFlags);
        Assert.Equal(0UL, plan.UnshareFlags);
        Assert.True(plan.NewCgroup);
    }

    [Fact]
    public void EmptyPathCountsAsNew()
    {
        var plan = NamespacePlan.From(With(("pid", ""), ("mount", "")));

        Assert.Equal(NewPid | NewNs, plan.CloneFlags);
        Assert.Empty(plan.Joins);
        Assert.False(plan.ForkAfter);
    }

    [Fact]
    public void NoLinuxSectionMeansNoNamespaces()
    {
        var plan = NamespacePlan.From(null);

        Assert.Equal(0UL, plan.CloneFlags);
        Assert.Equal(0UL, plan.UnshareFlags);
        Assert.Empty(plan.Joins);
        Assert.False(plan.ForkAfter);
        Assert.False(plan.BecomeRoot);
        Assert.False(plan.HasMountNamespace);
        Assert.False(plan.NewTime);
    }

    [Fact]
    public void AJoinedNamespaceTakesTheSlowPath()
    {
        var plan = NamespacePlan.From(With(
            ("mount", "/proc/10/ns/mnt"), ("pid", null), ("network", "/run/netns/a"),
            ("user", "/proc/10/ns/user"), ("uts", null), ("ipc", "/proc/10/ns/ipc")));

        Assert.Equal(0UL, plan.CloneFlags);
        Assert.Equal(NewPid | NewUts, plan.UnshareFlags);
        Assert.Equal(
            [("user", "/proc/10/ns/user"), ("network", "/run/netns/a"), ("ipc", "/proc/10/ns/ipc"), ("mount", "/proc/10/ns/mnt")],
            plan.Joins);
        Assert.True(plan.ForkAfter);
        Assert.True(plan.JoinsUser);
        Assert.False(plan.NewUser);
        Assert.True(plan.BecomeRoot);
        Assert.True(plan.HasMountNamespace);
        Assert.False(plan.NewMount);
        Assert.True(plan.NewPid);
        Assert.True(plan.NewUts);
        Assert.False(plan.NewNetwork);
    }

    [Fact]
    public void JoiningAPidNamespaceNeedsAForkAfterward()
    {
        var plan = NamespacePlan.From(With(("pid", "/proc/10/ns/pid"), ("mount", null)));

        Assert.Equal(0UL, plan.CloneFlags);
        Assert.Equal(NewNs, plan.UnshareFlags);
        Assert.Equal([("pid", "/proc/10/ns/pid")], plan.Joins);
        Assert.True(plan.ForkAfter);
        Assert.False(plan.NewPid);
    }

    [Fact]
    public void NoPidNamespaceMeansNoForkAfterward()
    {
        var plan = NamespacePlan.From(With(("network", "/run/netns/a"), ("mount", null), ("uts", null)));

        Assert.Equal(0UL, plan.CloneFlags);
        Assert.Equal(NewNs | NewUts, plan.UnshareFlags);
        Assert.False(plan.ForkAfter);
        Assert.False(plan.BecomeRoot);
    }

    [Fact]
    public void TimeNamespaceIsNeverInCloneOrUnshareFlags()
    {
        var fast = NamespacePlan.From(With(("time", null), ("pid", null)));
        Assert.True(fast.NewTime);
        Assert.Equal(NewPid, fast.CloneFlags);
        Assert.Equal(0UL, fast.CloneFlags & NewTime);

        var slow = NamespacePlan.From(With(("time", null), ("network", "/run/netns/a")));
        Assert.True(slow.NewTime);
        Assert.Equal(0UL, slow.CloneFlags);
        Assert.Equal(0UL, slow.UnshareFlags);

        var none = NamespacePlan.From(With(("pid", null)));
        Assert.False(none.NewTime);
    }

    [Fact]
    public void OnlyATimeNamespaceLeavesNoCloneFlags()
    {
        var plan = NamespacePlan.From(With(("time", null)));

        Assert.Equal(0UL, plan.CloneFlags);
        Assert.Equal(0UL, plan.UnshareFlags);
        Assert.True(plan.NewTime);
        Assert.Equal(NewTime, NamespacePlan.CLONE_NEWTIME);
    }

    [Fact]
    public void BecomeRootOnlyWithAUserNamespace()
    {
        Assert.True(NamespacePlan.From(With(("user", null))).BecomeRoot);
        Assert.True(NamespacePlan.From(With(("user", "/proc/1/ns/user"))).BecomeRoot);
        Assert.False(NamespacePlan.From(With(("pid", null), ("mount", null))).BecomeRoot);
    }

    [Fact]
    public void IdMapTextWritesOneLinePerMappingAndReadsItBack()
    {
        var text = IdMapText.Format(
        [
            new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 },
            new LinuxIdMapping { ContainerId = 65536, HostId = 1000, Size = 1 },
        ]);

        Assert.Equal("0 100000 65536\n65536 1000 1\n", text);
        Assert.Equal("", IdMapText.Format(null));
        Assert.Equal("", IdMapText.Format([]));
        // What /proc shows is padded with spaces; malformed lines are skipped.
        Assert.Equal([(0u, 100000u, 65536u), (65536u, 1000u, 1u)], IdMapText.Parse("         0     100000      65536\nbad line\n     65536       1000          1\n"));
    }

    [Fact]
    public void FormatTimeOffsetsSortsClocksByName()
    {
        var text = NamespacePlan.FormatTimeOffsets(new Dictionary<string, LinuxTimeOffset>
        {
            ["monotonic"] = new() { Secs = -5, Nanosecs = 0 },
            ["boottime"] = new() { Secs = 86400, Nanosecs = 123 },
        });

        Assert.Equal("boottime 86400 123\nmonotonic -5 0\n", text);
        Assert.Null(NamespacePlan.FormatTimeOffsets(null));
        Assert.Null(NamespacePlan.FormatTimeOffsets([]));
    }
}
