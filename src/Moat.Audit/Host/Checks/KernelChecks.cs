using Moat.Audit.Findings;

namespace Moat.Audit.Host.Checks;

/// <summary>MOAT-H001: the running kernel against the known container-escape bugs.</summary>
public sealed class KernelEscapeCves : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H001", "kernel with a known container-escape bug", AuditSeverity.High, "practice (kernel CVEs used to escape containers)",
        "A kernel bug reachable from a container turns every container into the host. Distribution kernels backport fixes without changing the version, so on them a match is a medium \"check your vendor\".");

    public override void Check(HostFacts host, FindingSink sink)
    {
        var version = KernelVersion.Detect(host.Files.ReadText("/proc/sys/kernel/osrelease"), host.Files.ReadText("/proc/version_signature"), host.Files.ReadText("/proc/version"));
        if (version is null)
        {
            sink.NotApplicable("/proc/sys/kernel/osrelease is missing or not a version");
            return;
        }
        foreach (var cve in KernelCves.All)
        {
            if (!KernelCves.Affects(cve, version)) continue;
            var fixedIn = KernelCves.FixedIn(cve, version);
            sink.Add(version.IsExact ? AuditSeverity.High : AuditSeverity.Medium, "/proc/sys/kernel/osrelease",
                version.IsExact
                    ? $"kernel {version} ({version.Release}) has {cve.Id} ({cve.Name}), fixed in {fixedIn}"
                    : $"kernel {version.Release} is a distribution kernel whose upstream base {version} has {cve.Id} ({cve.Name}) unless the vendor backported the fix",
                $"a container escape to host root; it needs {cve.Needs}",
                new AuditFix("none: a kernel update", $"install a kernel of {fixedIn} or later (the distribution's linux-image package with the fix for {cve.Id}) and reboot"));
        }
    }
}

/// <summary>MOAT-H002: an LSM that confines containers (AppArmor, SELinux, Smack, TOMOYO).</summary>
public sealed class LsmActive : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H002", "no mandatory access control LSM active", AuditSeverity.Medium, "CIS 1.x (host), CIS 5.1/5.2",
        "AppArmor or SELinux is the layer that still holds when capabilities and seccomp let something through (the cgroup release_agent escape, writes to /proc).");

    public override void Check(HostFacts host, FindingSink sink)
    {
        var list = host.Files.ReadText("/sys/kernel/security/lsm");
        if (list is null)
        {
            sink.NotApplicable("/sys/kernel/security/lsm is not readable (securityfs not mounted)");
            return;
        }
        var active = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (active.Any(l => l is "apparmor" or "selinux" or "smack" or "tomoyo")) return;
        sink.Add("/sys/kernel/security/lsm", $"no confining LSM is active (active: {string.Join(",", active)})",
            "containers run without AppArmor or SELinux profiles: one layer fewer between them and the host",
            new AuditFix("none", "install AppArmor (apt install apparmor apparmor-utils) or SELinux (dnf install selinux-policy-targeted) and boot with lsm=...,apparmor or selinux=1"));
    }
}
