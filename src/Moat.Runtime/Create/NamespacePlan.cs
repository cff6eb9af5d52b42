using Moat.Oci;

namespace Moat.Runtime.Create;

/// <summary>
/// How the spawn helper must make the container's namespaces: which are new, which are joined (and
/// in what order), whether clone3 alone can do it, and whether a second fork is needed.
/// Namespaces come in two steps. Early (clone3, or unshare after the joins): the user namespace
/// and the pid namespace, or without a user namespace everything but cgroup and time. Late (after
/// the runtime wrote the id maps and placed the child in its cgroups, and it became root of its
/// user namespace): the rest. So a new cgroup namespace is rooted at the container's own cgroup
/// in every hierarchy, and ipc/mqueue, net and mount namespaces belong to the mapped root.
/// </summary>
public sealed record NamespacePlan(
    ulong CloneFlags,
    ulong UnshareFlags,
    ulong LateUnshareFlags,
    IReadOnlyList<(string Type, string Path)> Joins,
    bool NewUser,
    bool JoinsUser,
    bool NewTime,
    bool ForkAfter,
    bool HasMountNamespace,
    bool NewMount,
    bool NewPid,
    bool NewUts,
    bool NewNetwork,
    bool NewCgroup)
{
    public const ulong CLONE_NEWTIME = 0x80;

    public bool BecomeRoot => NewUser || JoinsUser;

    public static NamespacePlan From(Linux? linux)
    {
        var namespaces = linux?.Namespaces ?? [];
        ulong newFlags = 0;
        var joins = new List<(string Type, string Path)>();
        foreach (var ns in namespaces)
        {
            if (string.IsNullOrEmpty(ns.Path))
                newFlags |= (ulong)(uint)NamespaceType.GetCloneFlag(ns.Type);
            else
                joins.Add((ns.Type, ns.Path));
        }
        // The user namespace first in the list (native/spawn.c still enters the others before it
        // where it can: a network namespace an engine made is not the container user namespace's).
        // The mount namespace last: after it, paths would resolve in the container's view.
        joins = joins.OrderBy(j => j.Type == NamespaceType.User ? 0 : j.Type == NamespaceType.Mount ? 2 : 1).ToList();

        bool Is(string type) => namespaces.Any(n => n.Type == type && string.IsNullOrEmpty(n.Path));
        bool Joined(string type) => joins.Any(j => j.Type == type);

        var newTime = Is(NamespaceType.Time);
        var created = newFlags & ~CLONE_NEWTIME;
        var userFlag = (ulong)(uint)NamespaceType.GetCloneFlag(NamespaceType.User);
        var pidFlag = (ulong)(uint)NamespaceType.GetCloneFlag(NamespaceType.Pid);
        var cgroupFlag = (ulong)(uint)NamespaceType.GetCloneFlag(NamespaceType.Cgroup);
        var early = (created & userFlag) != 0 ? created & (userFlag | pidFlag) : created & ~cgroupFlag;
        // The cgroup namespace is made by the init stage itself, once the runtime reports that the
        // process is in its cgroups (see ContainerInit): that move may wait for the kernel, and the
        // init's start-up runs meanwhile.
        var late = created & ~early & ~cgroupFlag;
        var anyJoin = joins.Count > 0;
        return new NamespacePlan(
            CloneFlags: anyJoin ? 0 : early,
            UnshareFlags: anyJoin ? early : 0,
            LateUnshareFlags: late,
            Joins: joins,
            NewUser: Is(NamespaceType.User),
            JoinsUser: Joined(NamespaceType.User),
            NewTime: newTime,
            ForkAfter: anyJoin && (Is(NamespaceType.Pid) || Joined(NamespaceType.Pid)),
            HasMountNamespace: Is(NamespaceType.Mount) || Joined(NamespaceType.Mount),
            NewMount: Is(NamespaceType.Mount),
            NewPid: Is(NamespaceType.Pid),
            NewUts: Is(NamespaceType.Uts),
            NewNetwork: Is(NamespaceType.Network),
            NewCgroup: Is(NamespaceType.Cgroup));
    }


    /// <summary>The text for /proc/self/timens_offsets.</summary>
    public static string? FormatTimeOffsets(Dictionary<string, LinuxTimeOffset>? offsets) =>
        offsets is null || offsets.Count == 0
            ? null
            : string.Concat(offsets.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value.Secs} {o.Value.Nanosecs}\n"));
}
