using Moat.Audit.Findings;

namespace Moat.Audit.Host.Checks;

/// <summary>MOAT-H010: cgroup v2 (the unified hierarchy) mounted at /sys/fs/cgroup.</summary>
public sealed class CgroupV2 : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H010", "cgroup v1 in use", AuditSeverity.Medium, "practice",
        "cgroup v1 has the release_agent escape (CVE-2022-0492), no safe delegation to rootless containers and no pressure-based memory control.");

    public override void Check(HostFacts host, FindingSink sink)
    {
        if (host.Files.ReadText("/sys/fs/cgroup/cgroup.controllers") is not null) return;
        sink.Add("/sys/fs/cgroup", "/sys/fs/cgroup is not a cgroup v2 hierarchy",
            "cgroup v1 release_agent escapes; no delegated limits for rootless containers",
            new AuditFix("none", "boot with systemd.unified_cgroup_hierarchy=1 (and cgroup_no_v1=all), on a systemd of version 247 or later"));
    }
}

/// <summary>MOAT-H011: the memory controller is enabled (without it no container has a memory limit).</summary>
public sealed class MemoryAccounting : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H011", "no memory accounting", AuditSeverity.Medium, "CIS 5.10 (host side)",
        "Without the memory controller a memory limit in a container's config cannot be applied: every container can take the host's memory.");

    public override void Check(HostFacts host, FindingSink sink)
    {
        var fix = new AuditFix("none", "boot with cgroup_enable=memory (and swapaccount=1 for swap limits), e.g. in GRUB_CMDLINE_LINUX or /boot/firmware/cmdline.txt");
        if (host.Files.ReadText("/sys/fs/cgroup/cgroup.controllers") is { } controllers)
        {
            if (controllers.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("memory")) return;
            sink.Add("/sys/fs/cgroup/cgroup.controllers", "the memory controller is not available in the cgroup v2 hierarchy",
                "containers cannot be given a memory limit: any of them can exhaust the host", fix);
            return;
        }
        var table = host.Files.ReadText("/proc/cgroups");
        if (table is null)
        {
            sink.NotApplicable("neither /sys/fs/cgroup/cgroup.controllers nor /proc/cgroups is readable");
            return;
        }
        foreach (var line in table.Split('\n'))
        {
            var fields = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 4 && fields[0] == "memory" && fields[3] == "1") return;
        }
        sink.Add("/proc/cgroups", "the memory controller is disabled", "containers cannot be given a memory limit: any of them can exhaust the host", fix);
    }
}
