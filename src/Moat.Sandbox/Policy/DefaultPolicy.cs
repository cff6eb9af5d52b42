using Moat.Oci;

namespace Moat.Sandbox.Policy;

/// <summary>
/// The policy a sandboxed container gets when it names none, made from its config: the whole image
/// readable; writable only where the container has writable storage of its own (tmpfs mounts, read-write
/// binds, the image's scratch directories) and the harmless devices; programs executable only from the
/// image's program directories, never from a writable place; connections and binds anywhere (network
/// reach is the network layer's job: a policy file narrows it); the kernel's secrets hidden.
/// </summary>
public static class DefaultPolicy
{
    /// <summary>Places every program of a distribution image lives in (and the dynamic loader).</summary>
    public static readonly string[] ProgramDirectories = ["/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/opt"];

    static readonly string[] WritableDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/pts", "/dev/ptmx", "/dev/console", "/dev/shm", "/dev/mqueue", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd"];

    static readonly string[] ScratchDirectories = ["/tmp", "/var/tmp", "/run"];

    public static SandboxPolicy For(Spec spec)
    {
        var writable = new List<string>(WritableDevices);
        writable.AddRange(ScratchDirectories);
        foreach (var mount in spec.Mounts ?? [])
        {
            var options = mount.Options ?? [];
            if (options.Contains("ro") || mount.Destination is null)
                continue;
            // The kernel's own filesystems are not the workload's storage.
            if (mount.Type is "proc" or "sysfs" or "cgroup" or "cgroup2" or "devpts" or "mqueue")
                continue;
            if (mount.Destination is "/dev")
                continue;
            if (mount.Type is "tmpfs" or "bind" || options.Contains("bind") || options.Contains("rbind"))
                writable.Add(mount.Destination);
        }
        if (spec.Root is { Readonly: false })
        {
            // A writable root still keeps programs out of reach of writes: /root and /home are the
            // user's own places.
            writable.AddRange(["/root", "/home", "/var"]);
        }
        var policy = new SandboxPolicy
        {
            Readable = ["/"],
            Writable = writable.Distinct(StringComparer.Ordinal).ToList(),
            Hidden = [],
            Executables = [.. ProgramDirectories],
            Connect = [NetworkRule.Parse("0.0.0.0/0:*", "default"), NetworkRule.Parse("[::/0]:*", "default")],
            Bind = [PortRange.Any],
        };
        // The container's own program, wherever the image put it (not from a writable place).
        if (spec.Process?.Args is [var program, ..] && program.StartsWith('/') && !SandboxPolicy.Covers(policy.Writable, program))
            policy.Executables.Add(program);
        policy.Validate();
        return policy;
    }
}
