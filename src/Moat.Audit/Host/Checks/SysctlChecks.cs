using Moat.Audit.Findings;

namespace Moat.Audit.Host.Checks;

/// <summary>
/// A hardening sysctl below its safe value: MOAT-H003…H009. <paramref name="isWeak"/> judges the value;
/// a kernel without the sysctl makes the check not applicable (said, not hidden).
/// </summary>
public sealed class HardeningSysctl(RuleInfo info, string name, Func<long, bool> isWeak, string gain, string fix, Func<HostFacts, AuditSeverity>? severity = null) : HostCheck
{
    public override RuleInfo Info { get; } = info;

    public override void Check(HostFacts host, FindingSink sink)
    {
        if (host.Sysctl(name) is not { } value)
        {
            sink.NotApplicable($"this kernel has no {name}");
            return;
        }
        if (!isWeak(value)) return;
        sink.Add(severity?.Invoke(host) ?? Info.Severity, HostFacts.SysctlPath(name), $"{name} is {value}", gain,
            new AuditFix("none", $"sysctl -w {fix} and add \"{fix}\" to /etc/sysctl.d/90-moat-hardening.conf"));
    }

    public static IEnumerable<HostCheck> All() =>
    [
        new HardeningSysctl(new("MOAT-H004", "unprivileged BPF allowed", AuditSeverity.High, "practice (kernel docs: unprivileged_bpf_disabled)",
                "Unprivileged BPF puts the verifier, a frequent source of privilege escalations, in reach of every process, containers included."),
            "kernel.unprivileged_bpf_disabled", v => v == 0, "every process can load BPF programs: verifier bugs become root on the host", "kernel.unprivileged_bpf_disabled=2"),
        new HardeningSysctl(new("MOAT-H005", "kernel pointers visible", AuditSeverity.Medium, "practice (kernel docs: kptr_restrict)",
                "Kernel addresses in /proc/kallsyms and elsewhere defeat KASLR, the step that turns a kernel bug into a reliable exploit."),
            "kernel.kptr_restrict", v => v == 0, "kernel addresses that defeat KASLR", "kernel.kptr_restrict=1"),
        new HardeningSysctl(new("MOAT-H006", "kernel log readable by everyone", AuditSeverity.Low, "practice (kernel docs: dmesg_restrict)",
                "The kernel log holds addresses and hardware details that help an exploit."),
            "kernel.dmesg_restrict", v => v == 0, "kernel addresses and state in dmesg", "kernel.dmesg_restrict=1"),
        new HardeningSysctl(new("MOAT-H007", "ptrace of any same-user process", AuditSeverity.Low, "practice (Yama)",
                "With Yama ptrace_scope 0 any process may trace any other of the same user: one compromised process reads the secrets of all."),
            "kernel.yama.ptrace_scope", v => v == 0, "trace and inject code into any process of the same user", "kernel.yama.ptrace_scope=1"),
        new HardeningSysctl(new("MOAT-H008", "perf events open to unprivileged users", AuditSeverity.Medium, "practice (kernel docs: perf_event_paranoid)",
                "perf_event_open is a large kernel attack surface and a side channel; below 2 unprivileged processes can profile the kernel."),
            "kernel.perf_event_paranoid", v => v < 2, "kernel profiling and perf attack surface for every process", "kernel.perf_event_paranoid=2"),
        new HardeningSysctl(new("MOAT-H009", "BPF JIT not hardened", AuditSeverity.Low, "practice (kernel docs: bpf_jit_harden)",
                "Without JIT hardening, constants in BPF programs land verbatim in executable memory (JIT spraying); medium when unprivileged BPF is allowed."),
            "net.core.bpf_jit_harden", v => v == 0, "JIT-sprayed code in kernel memory", "net.core.bpf_jit_harden=2",
            host => host.Sysctl("kernel.unprivileged_bpf_disabled") == 0 ? AuditSeverity.Medium : AuditSeverity.Low),
    ];
}

/// <summary>MOAT-H003: unprivileged user namespaces (the gate to CAP_SYS_ADMIN-in-a-namespace kernel code).</summary>
public sealed class UnprivilegedUserNamespaces : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H003", "unprivileged user namespaces allowed", AuditSeverity.Medium, "practice",
        "Any user can create a user namespace and reach kernel code that needs CAP_SYS_ADMIN or CAP_NET_ADMIN there (CVE-2022-0185, CVE-2024-1086). Rootless containers need it: turn it off where nothing runs rootless, or restrict it with AppArmor (Ubuntu).");

    public override void Check(HostFacts host, FindingSink sink)
    {
        var clone = host.Sysctl("kernel.unprivileged_userns_clone");
        var max = host.Sysctl("user.max_user_namespaces");
        var apparmorRestricted = host.Sysctl("kernel.apparmor_restrict_unprivileged_userns") == 1;
        if (clone is null && max is null)
        {
            sink.NotApplicable("this kernel has neither kernel.unprivileged_userns_clone nor user.max_user_namespaces");
            return;
        }
        if (clone == 0 || max == 0 || apparmorRestricted) return;
        var path = clone is not null ? HostFacts.SysctlPath("kernel.unprivileged_userns_clone") : HostFacts.SysctlPath("user.max_user_namespaces");
        sink.Add(path, clone is not null ? $"kernel.unprivileged_userns_clone is {clone}" : $"user.max_user_namespaces is {max}: any user can create user namespaces",
            "every local user (and every container with unshare in its seccomp profile) reaches namespaced-capability kernel code",
            new AuditFix("none", clone is not null
                ? "sysctl -w kernel.unprivileged_userns_clone=0 (stops rootless containers), or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=1"
                : "sysctl -w user.max_user_namespaces=0 (stops rootless containers), or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=1"));
    }
}
