using System.Collections.Frozen;
using Moat.Audit.Findings;

namespace Moat.Audit.Bundle;

/// <summary>
/// What each capability beyond Docker's default set allows, and how much that weakens the container
/// (capabilities(7), and the escapes each is known for). Docker's default set (moby
/// daemon/pkg/oci/caps/defaults.go) is the baseline: the audit reports what a config grants beyond it.
/// </summary>
public static class CapabilityRisks
{
    /// <summary>What Docker (and Podman before 4.0) grant a container unless told otherwise.</summary>
    public static readonly FrozenSet<string> DockerDefault = Moat.Oci.Capabilities.DockerDefault.ToFrozenSet(StringComparer.Ordinal);

    public sealed record Risk(AuditSeverity Severity, string Allows);

    static readonly FrozenDictionary<string, Risk> Table = new Dictionary<string, Risk>(StringComparer.Ordinal)
    {
        ["CAP_SYS_ADMIN"] = new(AuditSeverity.Critical, "mount file systems, bpf(), setns, namespace and cgroup administration: most container escapes (cgroup v1 release_agent, CVE-2022-0492) start here"),
        ["CAP_SYS_MODULE"] = new(AuditSeverity.Critical, "load kernel modules: arbitrary code in the host kernel"),
        ["CAP_SYS_RAWIO"] = new(AuditSeverity.Critical, "raw I/O ports (iopl, ioperm) and /dev/mem, /proc/kcore: read and write host memory"),
        ["CAP_DAC_READ_SEARCH"] = new(AuditSeverity.High, "open_by_handle_at(): open any file of a host file system mounted in the container by guessing its handle (the \"shocker\" escape)"),
        ["CAP_SYS_PTRACE"] = new(AuditSeverity.High, "ptrace and process_vm_readv/writev on any process it can see: with the host pid namespace, inject code into host processes"),
        ["CAP_NET_ADMIN"] = new(AuditSeverity.High, "configure interfaces, routes and firewall rules, sniff and redirect traffic of its network namespace (the host's with --network=host); large netfilter attack surface (CVE-2021-22555, CVE-2024-1086)"),
        ["CAP_BPF"] = new(AuditSeverity.High, "load BPF programs and maps: kernel attack surface (verifier bugs), and with CAP_PERFMON trace the host"),
        ["CAP_SYS_BOOT"] = new(AuditSeverity.High, "reboot and kexec_load: replace the running host kernel"),
        ["CAP_MAC_ADMIN"] = new(AuditSeverity.High, "change the AppArmor/SELinux/Smack policy that confines the container"),
        ["CAP_MAC_OVERRIDE"] = new(AuditSeverity.High, "override the mandatory access control policy"),
        ["CAP_SYS_TIME"] = new(AuditSeverity.Medium, "set the host's clock (not namespaced): breaks TLS validity checks, logs and token expiry"),
        ["CAP_SYSLOG"] = new(AuditSeverity.Medium, "read and clear the kernel log: kernel addresses that defeat KASLR"),
        ["CAP_PERFMON"] = new(AuditSeverity.Medium, "perf events on the host's CPUs: side channels, kernel attack surface"),
        ["CAP_AUDIT_CONTROL"] = new(AuditSeverity.Medium, "change or disable the kernel audit rules that record what containers do"),
        ["CAP_SYS_RESOURCE"] = new(AuditSeverity.Medium, "exceed resource limits and quotas, reserved disk space: exhaust the host"),
        ["CAP_SYS_PACCT"] = new(AuditSeverity.Medium, "turn process accounting on or off for the host"),
        ["CAP_SYS_TTY_CONFIG"] = new(AuditSeverity.Medium, "vhangup and privileged ioctls on terminals"),
        ["CAP_IPC_OWNER"] = new(AuditSeverity.Medium, "bypass permission checks on System V IPC objects (the host's with --ipc=host)"),
        ["CAP_CHECKPOINT_RESTORE"] = new(AuditSeverity.Medium, "choose pids (ns_last_pid, clone3 set_tid) and read other processes' memory maps"),
        ["CAP_SYS_NICE"] = new(AuditSeverity.Medium, "real-time scheduling and priorities for any process it can see: starve the host's CPUs"),
        ["CAP_BLOCK_SUSPEND"] = new(AuditSeverity.Low, "keep the host from suspending (epoll wake locks)"),
        ["CAP_IPC_LOCK"] = new(AuditSeverity.Low, "lock memory (mlock, huge pages) beyond RLIMIT_MEMLOCK"),
        ["CAP_LINUX_IMMUTABLE"] = new(AuditSeverity.Low, "set the immutable and append-only file attributes"),
        ["CAP_NET_BROADCAST"] = new(AuditSeverity.Low, "broadcast and listen to multicast"),
        ["CAP_LEASE"] = new(AuditSeverity.Low, "take leases on files it does not own"),
        ["CAP_WAKE_ALARM"] = new(AuditSeverity.Low, "set alarms that wake the host from suspend"),
        ["CAP_AUDIT_READ"] = new(AuditSeverity.Low, "read the kernel audit log over multicast netlink"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The risk of a capability beyond the default set; an unknown name is medium ("not assessed").</summary>
    public static Risk Of(string capability) =>
        Table.TryGetValue(capability, out var risk) ? risk : new Risk(AuditSeverity.Medium, "not assessed by this table");

    /// <summary>Every capability the table assesses (for the documentation and tests).</summary>
    public static IEnumerable<KeyValuePair<string, Risk>> All => Table;
}
