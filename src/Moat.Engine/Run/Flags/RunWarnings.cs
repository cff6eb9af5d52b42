using Moat.Images.Bundles;
using Moat.Oci;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// One sentence for each thing a run asks for that loosens a secure default: what it gives the container
/// and so what an attacker inside could do. The engine prints them before it creates anything; `moat
/// audit` reports the same settings from the written config.
/// </summary>
public static class RunWarnings
{
    /// <summary>Capabilities beyond Docker's default set that are worth a warning, with what they give.</summary>
    static readonly Dictionary<string, string> RiskyCapabilities = new(StringComparer.Ordinal)
    {
        ["CAP_SYS_ADMIN"] = "mounts, namespaces and most of root's power over the kernel, the usual way out of a container",
        ["CAP_SYS_PTRACE"] = "tracing and reading the memory of other processes",
        ["CAP_SYS_MODULE"] = "loading kernel modules, that is code in the host's kernel",
        ["CAP_NET_ADMIN"] = "reconfiguring network interfaces, routes and firewall rules",
        ["CAP_SYS_RAWIO"] = "raw I/O ports and device memory",
        ["CAP_DAC_READ_SEARCH"] = "open_by_handle_at, which has read host files from containers before (shocker)",
        ["CAP_SYS_BOOT"] = "rebooting the machine",
        ["CAP_SYS_TIME"] = "setting the host's clock",
        ["CAP_MAC_ADMIN"] = "changing the mandatory access control policy",
        ["CAP_MAC_OVERRIDE"] = "bypassing the mandatory access control policy",
        ["CAP_BPF"] = "loading BPF programs into the kernel",
        ["CAP_PERFMON"] = "performance monitoring of the whole system",
        ["CAP_SYSLOG"] = "reading the kernel log and kernel addresses",
        ["CAP_SYS_RESOURCE"] = "exceeding resource limits and quotas",
        ["CAP_LINUX_IMMUTABLE"] = "changing immutable and append-only files",
        ["CAP_IPC_LOCK"] = "locking unlimited memory",
        ["CAP_WAKE_ALARM"] = "waking the system from suspend",
        ["CAP_BLOCK_SUSPEND"] = "blocking system suspend",
        ["CAP_AUDIT_CONTROL"] = "changing the kernel's audit rules",
        ["CAP_SYS_NICE"] = "raising process priorities above the host's",
        ["CAP_SYS_PACCT"] = "process accounting",
        ["CAP_SYS_TTY_CONFIG"] = "reconfiguring terminals",
        ["CAP_LEASE"] = "file leases",
        ["CAP_NET_BROADCAST"] = "network broadcast",
        ["CAP_IPC_OWNER"] = "bypassing permission checks on IPC objects",
        ["CAP_AUDIT_READ"] = "reading the audit log",
        ["CAP_CHECKPOINT_RESTORE"] = "checkpoint and restore of processes",
    };

    /// <summary>Host sockets that give whoever can write them control of a container engine, and so of the host.</summary>
    static readonly string[] EngineSockets =
    [
        "/var/run/docker.sock", "/run/docker.sock", "/run/podman/podman.sock", "/var/run/podman/podman.sock",
        "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock", "/run/crio/crio.sock", "/var/run/crio/crio.sock",
        "/run/moat", "/var/run/moat", "/var/lib/moat", "/run/docker", "/var/run/docker", "/run/containerd", "/run/podman",
        "/var/lib/docker", "/var/lib/containers",
    ];

    /// <param name="request">The parsed run.</param>
    /// <param name="userNamespaceByDefault">Whether this engine gives containers a user namespace unless told otherwise; then `--userns host` is a loosening too.</param>
    /// <param name="userNamespaceHostAsked">`--userns host` was given.</param>
    public static List<string> For(RunRequest request, bool userNamespaceByDefault = false, bool userNamespaceHostAsked = false)
    {
        var warnings = new List<string>();
        var bundle = request.Bundle;
        if (bundle.Privileged)
        {
            warnings.Add("--privileged gives the container every capability, every host device, a writable /sys and no seccomp filter or masked paths: a process in it can take over the host");
        }
        else
        {
            foreach (var cap in bundle.CapAdd)
            {
                var name = cap.Trim().ToUpperInvariant();
                if (name == "ALL")
                {
                    warnings.Add("--cap-add ALL gives the container every capability, including CAP_SYS_ADMIN and CAP_SYS_MODULE: a process in it can take over the host");
                    continue;
                }
                if (!name.StartsWith("CAP_", StringComparison.Ordinal))
                    name = "CAP_" + name;
                if (!Capabilities.DockerDefault.Contains(name) && RiskyCapabilities.TryGetValue(name, out var what))
                    warnings.Add($"--cap-add {cap} gives the container {name}: {what}");
            }
            if (bundle.SeccompUnconfined)
                warnings.Add("--security-opt seccomp=unconfined turns the system call filter off: the container can use every kernel interface, including those behind past container escapes");
            if (bundle.UnmaskPaths.Count > 0)
                warnings.Add($"--security-opt unmask={string.Join(':', bundle.UnmaskPaths)} exposes kernel files that are hidden or read-only by default (/proc/kcore, /proc/sys, /sys/firmware...)");
        }
        if (bundle.AppArmorProfile == "unconfined")
            warnings.Add("--security-opt apparmor=unconfined runs the container without an AppArmor profile");
        if (bundle.LabelDisabled)
            warnings.Add("--security-opt label=disable turns SELinux separation off: on an SELinux host the container is no longer kept from host files by its label");
        if (!bundle.NoNewPrivileges)
            warnings.Add("--security-opt no-new-privileges=false lets setuid programs and file capabilities in the container raise its privileges");
        if (bundle.PidsLimit <= 0)
            warnings.Add("--pids-limit without a limit lets a fork bomb in the container exhaust the host's process table");

        foreach (var ns in bundle.HostNamespaces)
        {
            warnings.Add(ns switch
            {
                NamespaceType.Network => "--network host shares the host's network stack: the container can bind every host port, reach services on the host's loopback and sniff its traffic",
                NamespaceType.Pid => "--pid host lets the container see every process on the host, and signal or trace those its capabilities reach",
                NamespaceType.Ipc => "--ipc host shares the host's shared memory segments, semaphores and message queues with the container",
                NamespaceType.Uts => "--uts host shares the host's hostname: a container with CAP_SYS_ADMIN could change it",
                _ => $"the container shares the host's {ns} namespace",
            });
        }
        if (userNamespaceByDefault && userNamespaceHostAsked)
            warnings.Add("--userns host runs the container without a user namespace: its root is the host's root");

        foreach (var mount in request.Mounts.Where(m => m.Type == MountFlags.Bind && m.Source is not null))
            AddBindWarning(warnings, mount.Source!, mount.Target);
        foreach (var mount in bundle.Mounts.Where(m => m.IsBind()))
            if (mount.Source is not null && mount.Destination != BundleOptions.InitPathInContainer)
                AddBindWarning(warnings, mount.Source, mount.Destination);

        if (!bundle.Privileged)
            foreach (var device in bundle.Devices.Where(d => d.Type == "b").DistinctBy(d => d.HostPath))
                warnings.Add($"--device {device.HostPath} gives the container raw access to a host disk: it can read and write everything on it, past every file permission");
        return warnings.Distinct().ToList();
    }

    static void AddBindWarning(List<string> warnings, string source, string target)
    {
        var path = source.Length > 1 ? source.TrimEnd('/') : source;
        if (path == "/")
            warnings.Add($"the bind mount of / at {target} gives the container the host's whole filesystem");
        else if (EngineSockets.Any(s => path == s || path.StartsWith(s + "/", StringComparison.Ordinal)) || path.EndsWith("/docker.sock", StringComparison.Ordinal)
                 || path.EndsWith("/podman.sock", StringComparison.Ordinal) || path.EndsWith("/containerd.sock", StringComparison.Ordinal))
            warnings.Add($"the bind mount of {path} at {target} gives the container a container engine's socket or state: with it the container can start privileged containers and control the host");
        else if (path is "/proc" or "/sys" or "/dev" || path.StartsWith("/proc/", StringComparison.Ordinal) || path.StartsWith("/sys/", StringComparison.Ordinal))
            warnings.Add($"the bind mount of the host's {path} at {target} exposes host kernel interfaces that a container's own {path.Split('/')[1]} keeps from it");
        else if (path is "/etc" or "/boot" or "/root" or "/usr" or "/var" or "/home" or "/lib" or "/bin" or "/sbin")
            warnings.Add($"the bind mount of the host's {path} at {target} lets the container read{(path is "/etc" or "/boot" or "/root" ? " and change" : "")} host system files");
    }
}
