using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Audit.Bundle.Rules;

/// <summary>MOAT-A001: uid 0 with no user namespace (or one mapping container root to host root).</summary>
public sealed class RootWithoutUserNamespace : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A001", "runs as root without a user namespace", AuditSeverity.Medium, "CIS 4.1, CIS 5.30; practice",
        "Container root is host root: whatever lets a process out of the container (a kernel bug, a writable host mount, a leaked descriptor) makes it root on the host. A user namespace maps it to an unprivileged host id.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (!config.RunsAsRoot || config.UserNamespaceSeparatesRoot) return;
        var mapped = config.Owns(NamespaceType.User) ? " (its user namespace maps container root to host uid 0)" : "";
        sink.Add("process.user.uid", "the process runs as uid 0, the host's root" + mapped,
            "root on the host after any escape; files it writes on host mounts are owned by root",
            new AuditFix("--user 1000:1000, or --userns=auto (podman) / dockerd --userns-remap",
                "set process.user.uid and gid to a non-zero id, or add {\"type\":\"user\"} to linux.namespaces with linux.uidMappings and gidMappings mapping container 0 to an unprivileged host id"));
    }
}

/// <summary>MOAT-A002: every capability (and, with every device allowed, --privileged).</summary>
public sealed class PrivilegedOrAllCapabilities : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A002", "privileged or all capabilities", AuditSeverity.Critical, "CIS 5.4",
        "A privileged container, or one holding every capability, can load kernel modules, mount the host's disks, and reconfigure the kernel: there is no isolation left to audit.");

    /// <summary>
    /// "All": CAP_SYS_ADMIN and CAP_SYS_MODULE with at most two others missing up to CAP_AUDIT_READ (37, the last
    /// one kernels before 5.8 know). An engine grants --privileged containers only the capabilities it holds itself,
    /// so a sandboxed podman's "all" lacks e.g. CAP_SYS_RESOURCE.
    /// </summary>
    public static bool HasAll(SpecFacts config)
    {
        if (!config.Has("CAP_SYS_ADMIN") || !config.Has("CAP_SYS_MODULE")) return false;
        var missing = 0;
        for (var number = 0; number <= 37; number++)
            if (!config.Has(Capabilities.GetName(number))) missing++;
        return missing <= 2;
    }

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (!HasAll(config)) return;
        var privileged = DeviceAccess.AllowsEveryDevice(config.Linux) is not null;
        var path = config.Capabilities["CAP_SYS_ADMIN"];
        sink.Add(config.UserNamespaceSeparatesRoot ? AuditSeverity.High : AuditSeverity.Critical,
            path[..path.IndexOf('[')],
            privileged ? $"privileged: every capability ({config.Capabilities.Count}) and every device" : $"every capability is granted ({config.Capabilities.Count})",
            "root on the host: load a kernel module, mount the host's disk, write /proc/sys or the cgroup release_agent",
            new AuditFix("remove --privileged and --cap-add ALL; add back only the capabilities the program needs (--cap-drop ALL --cap-add NET_BIND_SERVICE ...)",
                "list only the needed capabilities in process.capabilities.bounding, effective and permitted (Docker's default set at most)"));
    }
}

/// <summary>MOAT-A003: each capability beyond Docker's default set, with what it allows.</summary>
public sealed class CapabilityBeyondDefault : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A003", "capability beyond Docker's default set", AuditSeverity.High, "CIS 5.3",
        "Each capability outside Docker's default set opens a specific door to the host (see the table in docs/security.md); the severity is the capability's own, one step lower inside a user namespace.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (PrivilegedOrAllCapabilities.HasAll(config))
        {
            sink.NotApplicable("every capability is granted: reported once by MOAT-A002");
            return;
        }
        foreach (var (capability, path) in config.Capabilities.OrderBy(c => c.Value, StringComparer.Ordinal))
        {
            if (CapabilityRisks.DockerDefault.Contains(capability)) continue;
            var risk = CapabilityRisks.Of(capability);
            var severity = config.UserNamespaceSeparatesRoot ? risk.Severity.Softened() : risk.Severity;
            var shortName = capability.StartsWith("CAP_", StringComparison.Ordinal) ? capability[4..] : capability;
            sink.Add(severity, path, $"{capability} is granted; it is not in Docker's default set",
                risk.Allows,
                new AuditFix($"remove --cap-add {shortName} (or add --cap-drop {shortName})",
                    $"remove \"{capability}\" from every set in process.capabilities"));
        }
    }
}

/// <summary>MOAT-A004: CAP_NET_RAW (in Docker's default set, dropped by Podman since 4.0).</summary>
public sealed class NetRaw : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A004", "CAP_NET_RAW", AuditSeverity.Low, "CIS 5.3; practice (Podman drops it by default since 4.0)",
        "Raw and packet sockets let a process forge packets (ARP and DNS spoofing of neighbours on the same bridge) and reach kernel code (CVE-2020-14386 in AF_PACKET); ping works without it when net.ipv4.ping_group_range is set.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (!config.Has("CAP_NET_RAW")) return;
        if (PrivilegedOrAllCapabilities.HasAll(config))
        {
            sink.NotApplicable("every capability is granted: reported once by MOAT-A002");
            return;
        }
        var hostNetwork = !config.Owns(NamespaceType.Network);
        sink.Add(hostNetwork ? AuditSeverity.High : AuditSeverity.Low, config.Capabilities["CAP_NET_RAW"],
            hostNetwork ? "CAP_NET_RAW is granted in the host's network namespace" : "CAP_NET_RAW is granted",
            hostNetwork ? "capture and forge every packet of the host's interfaces" : "forge packets to the other containers on its network (ARP/DNS spoofing); AF_PACKET kernel bugs",
            new AuditFix("--cap-drop NET_RAW (and --sysctl net.ipv4.ping_group_range=\"0 2147483647\" if ping must work)",
                "remove \"CAP_NET_RAW\" from every set in process.capabilities"));
    }
}
