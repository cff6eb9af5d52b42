using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime;

/// <summary>
/// Refuses, before anything is created, what this host or this version of Moat cannot do: each
/// message names the field and what is missing, never a silent skip.
/// </summary>
public static class HostSupport
{
    public static bool AppArmorEnabled =>
        File.Exists("/sys/module/apparmor/parameters/enabled") &&
        File.ReadAllText("/sys/module/apparmor/parameters/enabled").Trim() == "Y";

    public static bool SelinuxEnabled => File.Exists("/sys/fs/selinux/enforce");

    public static void Check(Spec spec)
    {
        var process = spec.Process;
        if (process?.ApparmorProfile is { Length: > 0 } profile && !AppArmorEnabled)
            throw new RuntimeException($"process.apparmorProfile \"{profile}\" is set, but AppArmor is not enabled on this host");
        if (process?.SelinuxLabel is { Length: > 0 } label && !SelinuxEnabled)
            throw new RuntimeException($"process.selinuxLabel \"{label}\" is set, but SELinux is disabled or not supported on this host");
        if (spec.Linux?.MountLabel is { Length: > 0 } mountLabel && !SelinuxEnabled)
            throw new RuntimeException($"linux.mountLabel \"{mountLabel}\" is set, but SELinux is disabled or not supported on this host");
        if (spec.Linux?.IntelRdt is not null)
            throw new RuntimeException("linux.intelRdt is set, but Intel RDT (resctrl) is not available on this host");
        if (process?.Scheduler is not null)
            throw new RuntimeException("process.scheduler is set, but this version of moat does not set scheduling policies yet");
        if (process?.IoPriority is not null)
            throw new RuntimeException("process.ioPriority is set, but this version of moat does not set I/O priorities yet");
        if (process?.ExecCpuAffinity is not null)
            throw new RuntimeException("process.execCPUAffinity is set, but this version of moat does not set CPU affinity yet");
        if (spec.Linux?.NetDevices is { Count: > 0 })
            throw new RuntimeException("linux.netDevices is set, but this version of moat does not move network devices yet");
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

    /// <summary>CapBnd of this process, from /proc/self/status (null when it cannot be read).</summary>
    static ulong? RuntimeBoundingSet()
    {
        var status = Libc.TryReadText("/proc/self/status");
        var at = status is null ? -1 : status.IndexOf("\nCapBnd:", StringComparison.Ordinal);
        if (status is null || at < 0)
            return null;
        var value = status.AsSpan(at + "\nCapBnd:".Length);
        var end = value.IndexOf('\n');
        return ulong.TryParse(end < 0 ? value.Trim() : value[..end].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var mask) ? mask : null;
    }
}
