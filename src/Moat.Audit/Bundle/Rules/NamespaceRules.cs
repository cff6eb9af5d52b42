using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Audit.Bundle.Rules;

/// <summary>MOAT-A011…A017: the container shares one of the host's namespaces (absent from linux.namespaces, or joined at /proc/1/ns/…).</summary>
public sealed class HostNamespace(string id, string type, AuditSeverity severity, string source, string flag, string gain, string rationale) : SpecRule
{
    public override RuleInfo Info { get; } = new(id, $"host {type} namespace", severity, source, rationale);

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (config.Owns(type)) return;
        var joined = config.JoinedPath(type);
        // Inside a user namespace that separates root, sharing the host's network or IPC gives what the mapped
        // (unprivileged) host user already has: one step lower. The user and mount rules are not softened.
        var softened = config.UserNamespaceSeparatesRoot && type is not (NamespaceType.User or NamespaceType.Mount);
        sink.Add(softened ? Info.Severity.Softened() : Info.Severity, config.NamespacePath(type),
            joined is null ? $"no {type} namespace: the container shares the host's" : $"joins the host's {type} namespace ({joined})",
            gain,
            new AuditFix(flag, $"add {{\"type\":\"{type}\"}} (without a path) to linux.namespaces"));
    }

    public static IEnumerable<SpecRule> All() =>
    [
        new HostNamespace("MOAT-A011", NamespaceType.Pid, AuditSeverity.High, "CIS 5.15", "remove --pid=host",
            "see every host process with its arguments and environment, signal them, ptrace them with CAP_SYS_PTRACE, reach their files through /proc/PID/root",
            "In the host's pid namespace the container sees, signals and (with CAP_SYS_PTRACE) traces every host process; /proc/PID/root of a host process is a path to the host's root."),
        new HostNamespace("MOAT-A012", NamespaceType.Ipc, AuditSeverity.Medium, "CIS 5.16", "remove --ipc=host",
            "read and write the host's System V shared memory and message queues",
            "In the host's IPC namespace the container can attach the shared memory segments and queues of host processes."),
        new HostNamespace("MOAT-A013", NamespaceType.Uts, AuditSeverity.Low, "CIS 5.20", "remove --uts=host",
            "learn the host's name; change it for the whole host with CAP_SYS_ADMIN",
            "In the host's UTS namespace a sethostname() changes the host's name."),
        new HostNamespace("MOAT-A014", NamespaceType.Network, AuditSeverity.High, "CIS 5.9", "remove --network=host (use the default network or --network=none)",
            "reach services bound to the host's localhost and abstract unix sockets (the containerd-shim escape, CVE-2020-15257), bind the host's ports, see its traffic",
            "In the host's network namespace the container reaches everything bound to 127.0.0.1 and the abstract unix sockets of the host, and binds any port of the host."),
        new HostNamespace("MOAT-A015", NamespaceType.User, AuditSeverity.Low, "CIS 5.30", "--userns=auto (podman) or dockerd --userns-remap",
            "ids and capabilities inside are the host's: an escape keeps them",
            "Without a user namespace the container's ids and capabilities are the host's own."),
        new HostNamespace("MOAT-A016", NamespaceType.Mount, AuditSeverity.Critical, "practice", "none: every engine creates a mount namespace",
            "the host's mount table: its pivot_root and mounts change the host",
            "Without a mount namespace the container's mounts are the host's; the runtime would change the host's root."),
        new HostNamespace("MOAT-A017", NamespaceType.Cgroup, AuditSeverity.Low, "practice", "--cgroupns=private",
            "see the host's cgroup hierarchy and the paths of other containers",
            "Without a cgroup namespace the container sees where it sits in the host's cgroup tree and the other groups there."),
    ];
}
