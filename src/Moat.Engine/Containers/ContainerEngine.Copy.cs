using Moat.Engine.Copy;
using Moat.Engine.Store;

namespace Moat.Engine.Containers;

public sealed partial class ContainerEngine
{
    /// <summary>
    /// `moat cp CONTAINER:SRC DEST`: from a running container through its init's root (its mounts as it sees
    /// them), from a stopped one through its layer, mounted for the copy (its volumes are not).
    /// </summary>
    public void CopyFromContainer(string reference, string source, string destination, bool archive, bool followLink) =>
        WithContainerRoot(reference, root =>
        {
            using var host = CopyRoot.Host();
            TreeCopier.Copy(root, source, host, destination, archive, followLink);
        });

    /// <summary>`moat cp SRC CONTAINER:DEST`.</summary>
    public void CopyToContainer(string source, string reference, string destination, bool archive, bool followLink) =>
        WithContainerRoot(reference, root =>
        {
            using var host = CopyRoot.Host();
            TreeCopier.Copy(host, source, root, destination, archive, followLink);
        });

    void WithContainerRoot(string reference, Action<CopyRoot> body)
    {
        var record = Get(reference);
        if (record.IsRunning && record.Pid > 0 && ProcStat.StartTime(record.Pid) is not null)
        {
            // The descriptor of /proc/PID/root is the container's root in its own mount namespace, whatever the
            // process does afterwards; every lookup from it is confined to it (RESOLVE_IN_ROOT).
            using var root = CopyRoot.Container($"/proc/{record.Pid}/root", record.Name);
            body(root);
            return;
        }
        if (record.State is EngineStates.Dead or EngineStates.Creating or EngineStates.Removing)
            throw new EngineException($"container {record.Name} is {record.State}: its files cannot be copied");
        // Stopped: the lock keeps a start (which mounts and uses the layer) from racing the mount and unmount here.
        using var held = ContainerLock.Acquire(ContainersDirectory, record.Id);
        var current = ReconcileLocked(Store.Find(record.Id));
        if (current.IsRunning)
        {
            held.Dispose();
            WithContainerRoot(record.Id, body);
            return;
        }
        var mounted = Images.Snapshots.IsMounted(record.Id);
        var rootfs = Images.Snapshots.Mount(record.Id);
        try
        {
            using var root = CopyRoot.Container(rootfs, record.Name);
            body(root);
        }
        finally
        {
            if (!mounted)
                Images.Snapshots.Unmount(record.Id);
        }
    }
}
