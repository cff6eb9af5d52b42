using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// Cgroups for a runtime started by a user without root. Such a user may write only a cgroup that was
/// delegated to it (a v2 subtree, or a v1 directory root made and chowned to it); the container uses
/// the hierarchies it can write and no others, as runc's rootless mode. Without any it runs in no
/// cgroup of its own, which is harmless when the config sets no limits; a limit that needs a
/// hierarchy the user cannot write is refused (the caller adds <see cref="Restricted.Hint"/> to the
/// error), never dropped in silence.
/// </summary>
public static class RootlessCgroup
{
    public sealed record Restricted(ContainerCgroup Cgroup, string? Hint);

    public static Restricted Restrict(ContainerCgroup cgroup, LinuxResources? resources, Action<string>? debug)
    {
        var writable = cgroup.WritableOnly(out var unwritable);
        if (unwritable.Count == 0)
            return new(cgroup, null);
        // Device rules need the devices controller or a BPF program, both root's; in a user namespace
        // the kernel refuses mknod and the container reaches only the device nodes mounted into it.
        if (resources?.Devices is { Count: > 0 } && writable.Controller("devices") is null)
        {
            debug?.Invoke("rootless: linux.resources.devices is not applied (no writable devices cgroup; the user namespace already refuses mknod)");
            resources.Devices = null;
        }
        debug?.Invoke($"rootless: not using the cgroups {string.Join(", ", unwritable)} (not writable by uid {Libc.geteuid()})");
        return new(writable,
            $"this user (uid {Libc.geteuid()}) cannot write the cgroup {string.Join(", ", unwritable)}; have root delegate one " +
            "(cgroup v2: a systemd unit or scope with Delegate=yes; cgroup v1: a directory root makes and chowns to you) " +
            "and point linux.cgroupsPath into it, or remove the limit");
    }
}
