using Moat.Audit.Findings;

namespace Moat.Audit.Bundle.Rules;

/// <summary>MOAT-A005: no seccomp filter, or one that allows by default.</summary>
public sealed class SeccompMissing : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A005", "no seccomp profile, or unconfined", AuditSeverity.High, "CIS 5.21",
        "Without a seccomp filter every system call reaches the kernel, including the rarely used ones most kernel exploits go through (keyctl, unshare, userfaultfd, bpf, io_uring).");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var fix = new AuditFix("remove --security-opt seccomp=unconfined (the engine's default profile then applies), or --security-opt seccomp=PROFILE.json",
            "set linux.seccomp to a profile with defaultAction SCMP_ACT_ERRNO (moat-runtime spec writes Docker's default profile)");
        var seccomp = config.Linux.Seccomp;
        if (seccomp is null)
        {
            sink.Add("linux.seccomp", "no seccomp profile: every system call is allowed",
                "the whole system-call surface of the host kernel, including calls behind most kernel exploits", fix);
            return;
        }
        if (seccomp.DefaultAction is "SCMP_ACT_ALLOW" or "SCMP_ACT_LOG" or "SCMP_ACT_NOTIFY")
            sink.Add(AuditSeverity.Medium, "linux.seccomp.defaultAction",
                $"the seccomp profile allows every call it does not list (defaultAction {seccomp.DefaultAction})",
                "every system call the profile did not think of, including ones added to the kernel later", fix);
    }
}

/// <summary>MOAT-A006: no_new_privs off.</summary>
public sealed class NoNewPrivilegesOff : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A006", "no_new_privs off", AuditSeverity.Medium, "CIS 5.25",
        "Without no_new_privs a setuid or file-capability binary in the image raises a process's privileges back up to the bounding set.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (config.Process is null || config.Process.NoNewPrivileges) return;
        sink.Add("process.noNewPrivileges", "no_new_privs is off: setuid and file-capability programs raise privileges",
            "an unprivileged process becomes root (or gains capabilities) through a setuid binary such as su, mount or ping",
            new AuditFix("--security-opt no-new-privileges", "set process.noNewPrivileges to true"));
    }
}

/// <summary>MOAT-A007: the root file system is writable.</summary>
public sealed class WritableRootfs : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A007", "writable root file system", AuditSeverity.Low, "CIS 5.12",
        "A writable root lets an intruder replace the container's own programs and keep them across restarts of the process.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (config.Spec.Root is { Readonly: true }) return;
        sink.Add(config.Spec.Root is null ? "root" : "root.readonly", "the root file system is writable",
            "persist inside the container: replace its binaries and libraries, plant tools",
            new AuditFix("--read-only (with --tmpfs /tmp and volumes for the paths the program writes)", "set root.readonly to true"));
    }
}

/// <summary>MOAT-A026: no AppArmor profile or SELinux label, or an explicitly unconfined one.</summary>
public sealed class MandatoryAccessControl : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A026", "no AppArmor profile or SELinux label", AuditSeverity.Low, "CIS 5.1, CIS 5.2",
        "An LSM profile is a second wall behind capabilities and seccomp: it stops writes to /proc and /sys files, mounts and ptrace that the other layers let through. On a host with neither AppArmor nor SELinux there is nothing to set.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var apparmor = config.Process?.ApparmorProfile;
        var selinux = config.Process?.SelinuxLabel;
        var fix = new AuditFix("remove --security-opt apparmor=unconfined / label=disable (docker-default and container_t apply)",
            "set process.apparmorProfile (e.g. \"docker-default\") or process.selinuxLabel (e.g. \"system_u:system_r:container_t:s0\")");
        if (apparmor == "unconfined")
            sink.Add(AuditSeverity.Medium, "process.apparmorProfile", "the AppArmor profile is \"unconfined\"",
                "nothing behind capabilities and seccomp stops writes to /proc, /sys and mounts", fix);
        else if (selinux is not null && (selinux.Contains(":spc_t", StringComparison.Ordinal) || selinux.Contains("unconfined_t", StringComparison.Ordinal)))
            sink.Add(AuditSeverity.Medium, "process.selinuxLabel", $"the SELinux label {selinux} is not confined",
                "nothing behind capabilities and seccomp stops access to host files", fix);
        else if (string.IsNullOrEmpty(apparmor) && string.IsNullOrEmpty(selinux))
            sink.Add(config.Process is null ? "process" : "process.apparmorProfile", "neither an AppArmor profile nor an SELinux label is set",
                "one layer fewer between the process and the host (writes to /proc, /sys, mounts)", fix);
    }
}
