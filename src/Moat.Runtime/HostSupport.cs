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
        if (process.Capabilities is { } capabilities && RuntimeBoundingSet() is { } bounding)
            CheckCapabilities(capabilities, bounding);
    }

    /// <summary>
    /// A capability this runtime does not hold itself (root here may lack some, as inside another
    /// container) cannot be given to the process: capset would fail with a bare EPERM at start.
    /// Say which one, at create. Bounding is a ceiling, not a grant: it may name more.
    /// </summary>
    public static void CheckCapabilities(LinuxCapabilities capabilities, ulong runtimeBounding)
    {
        foreach (var (set, names) in new[] { ("effective", capabilities.Effective), ("permitted", capabilities.Permitted),
                                             ("inheritable", capabilities.Inheritable), ("ambient", capabilities.Ambient) })
        {
            foreach (var name in names ?? [])
            {
                if (Capabilities.TryGetNumber(name, out var number) && number < 64 && (runtimeBounding & (1UL << number)) == 0)
                    throw new RuntimeException($"process.capabilities.{set}: {name} is not in this runtime's own capability bounding set, so it cannot be granted on this host");
            }
        }
    }

    /// <summary>CapBnd of this process, from /proc/self/status (null when it cannot be read).</summary>
    static ulong? RuntimeBoundingSet()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapBnd:", StringComparison.Ordinal))
                    return Convert.ToUInt64(line["CapBnd:".Length..].Trim(), 16);
        }
        catch (IOException)
        {
        }
        return null;
    }
}
