using Moat.Interop;
using Moat.Runtime.Protocol;
using Moat.Sandbox.Policy;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Profile;

/// <summary>
/// The Landlock ruleset that fences the same policy in the kernel, so that a flaw in the supervisor
/// is still caught: read rights beneath readable paths, write and create rights beneath writable ones,
/// execute beneath executables, TCP bind/connect on the policy's ports, and (ABI 6) abstract unix
/// sockets and signals scoped to the sandbox. Rights a kernel's ABI lacks are left out.
/// </summary>
public static class LandlockFromPolicy
{
    const ulong Read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    const ulong Write = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
        | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK
        | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER
        | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;

    /// <summary>The filesystem rights each ABI knows (1: 13 rights, 2: REFER, 3: TRUNCATE, 5: IOCTL_DEV).</summary>
    static ulong FsRights(int abi) =>
        (abi >= 5 ? LANDLOCK_ACCESS_FS_IOCTL_DEV : 0) | (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0)
        | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) | ((1UL << 13) - 1);

    public static LandlockRuleset For(SandboxPolicy policy, int abi)
    {
        var handled = FsRights(abi);
        var ruleset = new LandlockRuleset
        {
            HandledFs = handled,
            HandledNet = abi >= 4 ? LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP : 0,
            // Signals stay allowed: the runtime's kill comes from outside the domain, and scoping only
            // stops signals to processes outside it, which the pid namespace already hides.
            Scoped = abi >= 6 ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET : 0,
        };
        var paths = new Dictionary<string, ulong>(StringComparer.Ordinal);
        void Add(string path, ulong access) => paths[path] = (paths.TryGetValue(path, out var a) ? a : 0) | access;
        foreach (var p in policy.Readable)
            Add(p, Read);
        foreach (var p in policy.Writable)
            Add(p, Read | Write);
        foreach (var p in policy.Executables)
            Add(p, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE);
        ruleset.Paths = paths.Select(e => new LandlockPathRule(e.Key, e.Value & handled)).ToList();
        if (ruleset.HandledNet != 0)
        {
            // Landlock rules are per port: a wide range (or "*") cannot be listed, so then the right
            // is not handled and the supervisor alone checks it.
            var bindPorts = ExpandPorts(policy.Bind);
            var connectPorts = ExpandPorts(policy.Connect.Select(c => c.Ports));
            if (bindPorts is null)
                ruleset.HandledNet &= ~LANDLOCK_ACCESS_NET_BIND_TCP;
            if (connectPorts is null)
                ruleset.HandledNet &= ~LANDLOCK_ACCESS_NET_CONNECT_TCP;
            var ports = new Dictionary<ushort, ulong>();
            foreach (var port in bindPorts ?? [])
                ports[port] = (ports.TryGetValue(port, out var a) ? a : 0) | LANDLOCK_ACCESS_NET_BIND_TCP;
            foreach (var port in connectPorts ?? [])
                ports[port] = (ports.TryGetValue(port, out var a) ? a : 0) | LANDLOCK_ACCESS_NET_CONNECT_TCP;
            ruleset.Ports = ports.Where(p => (p.Value & ruleset.HandledNet) != 0).Select(p => new LandlockPortRule(p.Key, p.Value & ruleset.HandledNet)).ToList();
        }
        return ruleset;
    }

    /// <summary>Every port in the ranges, or null when they are too many to list (more than 256).</summary>
    static List<ushort>? ExpandPorts(IEnumerable<PortRange> ranges)
    {
        var ports = new SortedSet<ushort>();
        foreach (var range in ranges)
        {
            if (range.Last - range.First >= 256)
                return null;
            for (var p = range.First; p <= range.Last; p++)
                ports.Add((ushort)p);
            if (ports.Count > 256)
                return null;
        }
        return ports.ToList();
    }
}
