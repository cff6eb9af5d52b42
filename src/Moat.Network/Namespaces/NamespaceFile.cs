using Moat.Interop;

namespace Moat.Network.Namespaces;

/// <summary>
/// A network namespace that outlives every process in it: made by a thread of ours that unshares, and
/// kept by bind-mounting that thread's /proc/thread-self/ns/net on a file under the runtime root, as
/// podman keeps its namespaces under /run/netns. The container's spec joins it by path; removing the
/// mount (and the last veth with it) ends it.
/// </summary>
public static class NamespaceFile
{
    const int CLONE_NEWNET = 0x40000000;

    public static void Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (File.Create(path)) { }
        Exception? failure = null;
        // A thread of its own: unshare changes only the calling thread's namespace, and this thread ends after.
        var thread = new Thread(() =>
        {
            try
            {
                Errors.Check(Libc.unshare(CLONE_NEWNET), "unshare", "a network namespace");
                Libc.Mount("/proc/thread-self/ns/net", path, null, Libc.MS_BIND, null);
                // Still inside: /proc/sys/net and interface ioctls act on this thread's namespace.
                Libc.SetInterfaceUp("lo");
                // Unprivileged ICMP echo sockets for every group, as docker sets it: ping works without CAP_NET_RAW.
                File.WriteAllText("/proc/sys/net/ipv4/ping_group_range", "0 2147483647");
                // Every port is bindable without CAP_NET_BIND_SERVICE, as docker sets it: a container's root
                // in a user namespace of its own has no capability over this namespace (the host's user
                // namespace owns it), and a web server on port 80 must still start.
                File.WriteAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            try { File.Delete(path); } catch (IOException) { }
            throw new NetworkException($"cannot make a network namespace at {path}: {failure.Message}", failure);
        }
    }

    /// <summary>Unmounts (detached: a container still running keeps its namespace until it ends) and deletes the file; absent is fine.</summary>
    public static void Remove(string path)
    {
        if (!File.Exists(path))
            return;
        if (Libc.umount2(path, Libc.MNT_DETACH) != 0 && Errors.LastErrno is not (Errors.EINVAL or Errors.ENOENT))
            throw new NetworkException($"cannot unmount the network namespace {path}: errno {Errors.LastErrno}");
        try { File.Delete(path); } catch (IOException) { }
    }

    /// <summary>Whether a namespace is mounted at the path (an empty file is a crash's leftover).</summary>
    public static bool IsMounted(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == path);
}
