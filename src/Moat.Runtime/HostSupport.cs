using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime;

/// <summary>
/// Refuses, before anything is created, what this host or this version of Moat cannot do: each
/// message names the field and what is missing, never a silent skip.
/// </summary>
public static class HostSupport
{
    public static bool AppArmorEnabled => Host.HostContext.Current.AppArmor;

    public static bool SelinuxEnabled => Host.HostContext.Current.Selinux;

    /// <summary>
    /// Whether this runtime is root only of a user namespace (the rootless engine's: docs/rootless.md), not of
    /// the host: its uid_map is not the full identity map. Cgroups are then the user's, as when not root at all.
    /// </summary>
    public static bool InUserNamespace => (Moat.Interop.Libc.TryReadText("/proc/self/uid_map") ?? "").Trim() is var map
        && map.Split(' ', StringSplitOptions.RemoveEmptyEntries) is not ["0", "0", "4294967295"];

    public static void Check(Spec spec)
    {
        if (spec.Process is { } process)
            CheckProcess(process);
        if (spec.Linux?.MountLabel is { Length: > 0 } mountLabel && !SelinuxEnabled)
            throw new RuntimeException($"linux.mountLabel \"{mountLabel}\" is set, but SELinux is disabled or not supported on this host");
        if (spec.Linux?.IntelRdt is not null)
            throw new RuntimeException("linux.intelRdt is set, but Intel RDT (resctrl) is not available on this host");
        if (spec.Linux?.NetDevices is { Count: > 0 })
            throw new RuntimeException("linux.netDevices is set, but this version of moat does not move network devices yet");
    }

    /// <summary>The process's own settings: create's process, and exec's (from --process or the flags).</summary>
    public static void CheckProcess(Process process)
    {
        if (process.ApparmorProfile is { Length: > 0 } profile && !AppArmorEnabled)
            throw new RuntimeException($"process.apparmorProfile \"{profile}\" is set, but AppArmor is not enabled on this host");
        if (process.SelinuxLabel is { Length: > 0 } label && !SelinuxEnabled)
            throw new RuntimeException($"process.selinuxLabel \"{label}\" is set, but SELinux is disabled or not supported on this host");
        if (process.Scheduler is not null)
            throw new RuntimeException("process.scheduler is set, but this version of moat does not set scheduling policies yet");
        if (process.IoPriority is not null)
            throw new RuntimeException("process.ioPriority is set, but this version of moat does not set I/O priorities yet");
        if (process.ExecCpuAffinity is not null)
            throw new RuntimeException("process.execCPUAffinity is set, but this version of moat does not set CPU affinity yet");
    }

    /// <summary>
    /// The capability sets the process gets: process.capabilities reduced to what this runtime can
    /// grant (root here may lack some, as inside another container; runc and crun fail at capset
    /// there), each left-out capability warned about (<see cref="Init.CapabilitySets.From"/>).
    /// <paramref name="last"/> is this kernel's last capability number.
    /// </summary>
    public static Init.CapabilitySets GrantableCapabilities(LinuxCapabilities? capabilities, int last, Action<string>? warn)
    {
        if (capabilities is null)
            return Init.CapabilitySets.None;
        return Init.CapabilitySets.From(capabilities, RuntimeBoundingSet() ?? (last >= 63 ? ulong.MaxValue : (1UL << (last + 1)) - 1), last, warn);
    }

    /// <summary>CapBnd of this process (null when it cannot be read).</summary>
    static ulong? RuntimeBoundingSet() => Host.HostContext.Current.BoundingCapabilitiesOrNull;
}
