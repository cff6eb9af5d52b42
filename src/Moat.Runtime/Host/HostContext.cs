using Moat.Runtime.Cgroups;

namespace Moat.Runtime.Host;

/// <summary>How the host's cgroup hierarchies are laid out.</summary>
public enum CgroupLayout
{
    /// <summary>No cgroup hierarchy is mounted.</summary>
    None,
    /// <summary>Only v1 hierarchies.</summary>
    V1,
    /// <summary>v1 hierarchies with a cgroup2 mount beside them (systemd's "hybrid").</summary>
    Hybrid,
    /// <summary>One cgroup2 hierarchy holding every controller.</summary>
    V2,
}

/// <summary>
/// The facts of the host that decide what Moat can do here: cgroup layout and driver, LSMs, the
/// runtime's own capabilities, kernel features, and who is calling. One instance per process,
/// passed down to whoever needs a fact; each fact is read on first use only, so a `start` or a
/// `kill` pays for nothing it does not ask (the start path must stay lean).
/// </summary>
public sealed class HostContext(IHostProbe probe)
{
    static HostContext? current;

    /// <summary>The context of this process's host.</summary>
    public static HostContext Current => current ??= new HostContext(new SystemHostProbe());

    CgroupHost? cgroups;
    KernelFeatures? kernel;
    HostIdentity? identity;
    (ulong? Effective, ulong? Bounding)? capabilities;
    IReadOnlyList<string>? lsms;

    public IHostProbe Probe { get; } = probe;

    /// <summary>The mounted cgroup hierarchies (from /proc/self/mountinfo).</summary>
    public CgroupHost Cgroups => cgroups ??= new CgroupHost(CgroupHierarchy.Parse(Probe.ReadText("/proc/self/mountinfo") ?? ""));

    public CgroupLayout CgroupLayout => Cgroups.Hierarchies.Count == 0 ? CgroupLayout.None
        : Cgroups.IsPureV2 ? CgroupLayout.V2
        : Cgroups.Unified is null ? CgroupLayout.V1
        : CgroupLayout.Hybrid;

    /// <summary>The cgroup driver Moat uses on this host: cgroupfs (the systemd driver is not built).</summary>
    public string CgroupDriver => "cgroupfs";

    /// <summary>
    /// The active LSMs, in the kernel's order (/sys/kernel/security/lsm); null when securityfs is not
    /// mounted and the list cannot be read (each LSM Moat uses is then probed on its own).
    /// </summary>
    public IReadOnlyList<string>? Lsms => lsms ??= Probe.ReadText("/sys/kernel/security/lsm") is { } list
        ? list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries)
        : null;

    public bool AppArmor => Probe.ReadText("/sys/module/apparmor/parameters/enabled")?.Trim() == "Y";

    public bool Selinux => Probe.Exists("/sys/fs/selinux/enforce");

    /// <summary>This process's effective capability set (CapEff); every bit when /proc cannot tell.</summary>
    public ulong EffectiveCapabilities => (capabilities ??= ReadCapabilities()).Effective ?? ulong.MaxValue;

    /// <summary>This process's bounding set (CapBnd): what no process it starts can hold more of; every bit when /proc cannot tell.</summary>
    public ulong BoundingCapabilities => BoundingCapabilitiesOrNull ?? ulong.MaxValue;

    /// <summary>CapBnd, or null when /proc/self/status cannot be read.</summary>
    public ulong? BoundingCapabilitiesOrNull => (capabilities ??= ReadCapabilities()).Bounding;

    public KernelFeatures Kernel => kernel ??= KernelFeatures.Detect(Probe);

    public HostIdentity Identity => identity ??= HostIdentity.Detect(Probe);

    (ulong?, ulong?) ReadCapabilities()
    {
        // On the create path: find the two lines instead of splitting the whole file.
        var status = Probe.ReadText("/proc/self/status");
        return (HexField(status, "\nCapEff:"), HexField(status, "\nCapBnd:"));
    }

    static ulong? HexField(string? status, string key)
    {
        var at = status is null ? -1 : status.IndexOf(key, StringComparison.Ordinal);
        if (at < 0)
            return null;
        var value = status.AsSpan(at + key.Length);
        var end = value.IndexOf('\n');
        return ulong.TryParse(end < 0 ? value.Trim() : value[..end].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var mask) ? mask : null;
    }
}
