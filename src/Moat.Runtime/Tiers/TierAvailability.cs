using Moat.Runtime.Host;

namespace Moat.Runtime.Tiers;

/// <summary>Whether a tier can run on this host with this build, and if not, each thing that is missing.</summary>
public sealed record TierAvailability(Isolation Isolation, bool Built, IReadOnlyList<string> Missing)
{
    public bool Available => Built && Missing.Count == 0;

    /// <summary>The sentence a refused create prints.</summary>
    public string Explain() =>
        !Built ? $"the {Isolation.ToName()} isolation tier is not built in this version of moat"
                 + (Missing.Count > 0 ? $" (this host would also lack: {string.Join("; ", Missing)})" : "")
        : Missing.Count > 0 ? $"the {Isolation.ToName()} isolation tier cannot run on this host: {string.Join("; ", Missing)}"
        : $"the {Isolation.ToName()} isolation tier is available";

    /// <summary>What each tier needs of the host, checked against the host context (nothing is started).</summary>
    public static TierAvailability Of(Isolation isolation, HostContext host, bool built)
    {
        var missing = new List<string>();
        switch (isolation)
        {
            case Isolation.Container:
                foreach (var ns in (string[])["mnt", "pid", "uts", "ipc", "net"])
                    if (!host.Probe.Exists($"/proc/self/ns/{ns}"))
                        missing.Add($"the kernel has no {ns} namespaces");
                if (host.CgroupLayout == CgroupLayout.None)
                    missing.Add("no cgroup hierarchy is mounted (mount cgroup2 on /sys/fs/cgroup)");
                break;
            case Isolation.Sandbox:
                if (!host.Kernel.SeccompUserNotification)
                    missing.Add("the kernel lacks seccomp user notification (Linux 5.0+)");
                // The supervisor installs descriptors in the caller and answers in one step
                // (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND, Linux 5.14), and reads
                // descriptors of the caller with pidfd_getfd (5.6).
                else if (host.Kernel.Version < new Version(5, 14))
                    missing.Add($"the kernel ({host.Kernel.Release}) lacks SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND (Linux 5.14+)");
                if (host.Kernel.LandlockAbi == 0)
                    missing.Add("Landlock is not enabled (Linux 5.13+, with landlock in the lsm= list)");
                if (!host.Kernel.UserNamespaces)
                    missing.Add("user namespaces are disabled (user.max_user_namespaces is 0)");
                break;
            case Isolation.Vm:
                if (!host.Probe.Exists("/usr/bin/qemu-system-x86_64"))
                    missing.Add("QEMU is not installed (Debian: apt-get install qemu-system-x86)");
                // The guest kernel: the one configured (MOAT_VM_KERNEL, read by Moat.Vm's GuestKernel),
                // or Debian's, which apt fetches on first use.
                if (Environment.GetEnvironmentVariable("MOAT_VM_KERNEL") is { Length: > 0 } kernel)
                {
                    if (!host.Probe.Exists(kernel))
                        missing.Add($"the guest kernel MOAT_VM_KERNEL={kernel} does not exist");
                }
                else if (!host.Probe.Exists("/usr/bin/apt-get") || !host.Probe.Exists("/usr/bin/dpkg-deb"))
                    missing.Add("no guest kernel: set MOAT_VM_KERNEL to a kernel image, or install apt and dpkg to fetch Debian's linux-image-amd64");
                break;
        }
        return new TierAvailability(isolation, built, missing);
    }
}
