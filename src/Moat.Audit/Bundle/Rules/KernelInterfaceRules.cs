using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Audit.Bundle.Rules;

/// <summary>MOAT-A022: paths Docker masks that the config leaves visible.</summary>
public sealed class MaskedPathRemoved : SpecRule
{
    /// <summary>Docker's masked paths (moby daemon/pkg/oci/defaults.go) with what each leaks.</summary>
    public static readonly (string Path, AuditSeverity Severity, string Leak)[] Defaults =
    [
        ("/proc/acpi", AuditSeverity.Low, "ACPI interfaces of the host"),
        ("/proc/asound", AuditSeverity.Low, "the host's sound devices"),
        ("/proc/interrupts", AuditSeverity.Low, "interrupt counts of the host: a side channel (keystroke and network timing)"),
        ("/proc/kcore", AuditSeverity.Medium, "the host's physical memory as an ELF core (read with CAP_SYS_RAWIO)"),
        ("/proc/keys", AuditSeverity.Medium, "the kernel keyrings visible to the process: names and ids of other users' keys"),
        ("/proc/latency_stats", AuditSeverity.Low, "the host's scheduling latencies"),
        ("/proc/sched_debug", AuditSeverity.Low, "every process of the host with its name and pid"),
        ("/proc/scsi", AuditSeverity.Low, "the host's SCSI devices, and a rescan trigger"),
        ("/proc/timer_list", AuditSeverity.Low, "the host's timers with kernel addresses"),
        ("/proc/timer_stats", AuditSeverity.Low, "timer statistics of every host process"),
        ("/sys/devices/virtual/powercap", AuditSeverity.Medium, "RAPL energy counters: the PLATYPUS side channel (CVE-2020-8694) that reads other processes' secrets"),
        ("/sys/firmware", AuditSeverity.Medium, "the host's firmware tables and EFI variables"),
    ];

    public override RuleInfo Info { get; } = new("MOAT-A022", "masked paths removed", AuditSeverity.Medium, "practice (Docker's defaults)",
        "Docker masks parts of /proc and /sys that leak host information or offer side channels; each one the config leaves visible is reported, all of them at once (--security-opt unmask=ALL, --privileged) as high.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var masked = new HashSet<string>(config.Linux.MaskedPaths ?? [], StringComparer.Ordinal);
        var missing = Defaults.Where(d => !masked.Contains(d.Path)).ToList();
        var fix = new AuditFix("remove --security-opt unmask=... (and --privileged)", "add the path to linux.maskedPaths");
        if (missing.Count == Defaults.Length)
        {
            sink.Add(AuditSeverity.High, "linux.maskedPaths", "no path of /proc or /sys is masked",
                "the host's memory image, keyrings, firmware, process list and energy side channels", fix with { Change = "set linux.maskedPaths to Docker's list (docs/security.md)" });
            return;
        }
        foreach (var (path, severity, leak) in missing)
            sink.Add(severity, "linux.maskedPaths", $"{path} is not masked", leak, fix with { Change = $"add \"{path}\" to linux.maskedPaths" });
    }
}

/// <summary>MOAT-A023: paths Docker makes read-only that the config leaves writable.</summary>
public sealed class ReadonlyPathRemoved : SpecRule
{
    public static readonly (string Path, AuditSeverity Severity, string Gain)[] Defaults =
    [
        ("/proc/bus", AuditSeverity.Medium, "write PCI configuration space of host devices"),
        ("/proc/fs", AuditSeverity.Medium, "change host file-system settings (nfsd, xfs...)"),
        ("/proc/irq", AuditSeverity.Low, "change which host CPUs serve interrupts"),
        ("/proc/sys", AuditSeverity.High, "write host-wide kernel settings: kernel.core_pattern runs a program as host root on the next crash"),
        ("/proc/sysrq-trigger", AuditSeverity.High, "crash, reboot or freeze the host with one write"),
    ];

    public override RuleInfo Info { get; } = new("MOAT-A023", "read-only paths removed", AuditSeverity.High, "practice (Docker's defaults)",
        "Docker remounts parts of /proc read-only because writes there change the host; /proc/sys (core_pattern) and /proc/sysrq-trigger are escapes. One step lower inside a user namespace, whose root cannot write the host's settings.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var covered = new HashSet<string>(config.Linux.ReadonlyPaths ?? [], StringComparer.Ordinal);
        covered.UnionWith(config.Linux.MaskedPaths ?? []);
        var separated = config.UserNamespaceSeparatesRoot;
        foreach (var (path, severity, gain) in Defaults)
        {
            if (covered.Contains(path)) continue;
            sink.Add(separated ? severity.Softened() : severity, "linux.readonlyPaths", $"{path} is writable", gain,
                new AuditFix("remove --security-opt unmask=... (and --privileged)", $"add \"{path}\" to linux.readonlyPaths"));
        }
    }
}

/// <summary>MOAT-A024: a sysctl that is not namespaced, or whose namespace the container shares with the host.</summary>
public sealed class HostSysctl : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A024", "sysctl outside the container's namespaces", AuditSeverity.High, "practice (runc's rule; Docker --sysctl docs)",
        "Only sysctls of a namespace the container owns are its own: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* (IPC), net.* (network), kernel.hostname and kernel.domainname (UTS), user.* (user). Any other sysctl, or one of a shared namespace, changes the host.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        foreach (var (key, value) in config.Linux.Sysctl ?? [])
        {
            var owner = NamespaceOf(key);
            if (owner is not null && config.Owns(owner)) continue;
            var why = owner is null ? "is not namespaced" : $"belongs to the {owner} namespace, which the container shares with the host";
            sink.Add($"linux.sysctl[\"{key}\"]", $"{key}={value} {why}: setting it changes the host",
                "change a kernel setting of the whole host",
                new AuditFix($"remove --sysctl {key}={value}", $"remove \"{key}\" from linux.sysctl"));
        }
    }

    /// <summary>The namespace a sysctl lives in, or null when it is global (linux/kernel/sysctl docs; runc's validator).</summary>
    public static string? NamespaceOf(string key)
    {
        key = key.Replace('/', '.');
        if (key is "kernel.msgmax" or "kernel.msgmnb" or "kernel.msgmni" or "kernel.sem" or "kernel.shmall" or "kernel.shmmax" or "kernel.shmmni" or "kernel.shm_rmid_forced"
            || key.StartsWith("fs.mqueue.", StringComparison.Ordinal))
            return NamespaceType.Ipc;
        if (key.StartsWith("net.", StringComparison.Ordinal)) return NamespaceType.Network;
        if (key is "kernel.hostname" or "kernel.domainname") return NamespaceType.Uts;
        if (key.StartsWith("user.", StringComparison.Ordinal)) return NamespaceType.User;
        return null;
    }
}
