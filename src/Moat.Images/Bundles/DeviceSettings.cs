using Moat.Interop;
using Moat.Oci;

namespace Moat.Images.Bundles;

/// <summary>linux.devices (nodes the runtime creates) and the device cgroup rules: the defaults, `--device`, `--device-cgroup-rule`, `--privileged`.</summary>
public static class DeviceSettings
{
    internal static List<LinuxDevice>? Nodes(BundleOptions options)
    {
        var nodes = options.Privileged ? HostDevices() : [];
        foreach (var device in options.Devices)
        {
            nodes.RemoveAll(n => n.ContainerPath == device.ContainerPath);
            nodes.Add(device);
        }
        return nodes.Count == 0 ? null : nodes.Select(d => new LinuxDevice
        {
            Path = d.ContainerPath,
            Type = d.Type,
            Major = d.Major,
            Minor = d.Minor,
            FileMode = d.FileMode,
            Uid = d.Uid,
            Gid = d.Gid,
        }).ToList();
    }

    internal static List<LinuxDeviceCgroup> Rules(BundleOptions options)
    {
        // Privileged: every device, as docker allows it ("a *:* rwm").
        var rules = options.Privileged ? [new LinuxDeviceCgroup { Allow = true, Access = "rwm" }] : SecureDefaults.DeviceRules();
        foreach (var device in options.Devices)
            rules.Add(new LinuxDeviceCgroup { Allow = true, Type = device.Type, Major = device.Major, Minor = device.Minor, Access = device.Access });
        rules.AddRange(options.DeviceCgroupRules.Select(r => new LinuxDeviceCgroup { Allow = r.Allow, Type = r.Type, Major = r.Major, Minor = r.Minor, Access = r.Access }));
        return rules;
    }

    /// <summary>Directories of /dev that hold no device a container should get: they are its own (pts, shm, mqueue) or bookkeeping.</summary>
    static readonly string[] SkippedDirectories = ["pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev"];

    /// <summary>Every character and block device under /dev, as docker gives a privileged container (not /dev/console, which the runtime makes).</summary>
    public static List<DeviceNode> HostDevices(string root = "/dev")
    {
        var devices = new List<DeviceNode>();
        Walk(root, root, devices);
        return devices;
    }

    /// <summary>The device nodes at or under a host path (a node, or a directory of them); <paramref name="containerPath"/> takes the host path's place.</summary>
    public static List<DeviceNode> NodesAt(string hostPath, string containerPath, string access)
    {
        var status = StatFollowing(hostPath)
            ?? throw new BundleException($"--device {hostPath}: the host has no such device");
        if (status.IsDirectory)
        {
            var found = new List<DeviceNode>();
            Walk(hostPath, hostPath, found);
            if (found.Count == 0)
                throw new BundleException($"--device {hostPath}: the directory holds no device nodes");
            return found.Select(d => d with
            {
                ContainerPath = containerPath.TrimEnd('/') + d.ContainerPath[hostPath.TrimEnd('/').Length..],
                Access = access,
            }).ToList();
        }
        return [ToNode(hostPath, status) is { } node
            ? node with { ContainerPath = containerPath, Access = access }
            : throw new BundleException($"--device {hostPath}: it is not a character or block device")];
    }

    static void Walk(string root, string directory, List<DeviceNode> devices)
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var entry in entries)
        {
            var status = Libc.TryStatAt(Libc.AT_FDCWD, entry);
            if (status is not { } s)
                continue;
            if (s.IsDirectory)
            {
                if (directory == root && SkippedDirectories.Contains(Path.GetFileName(entry)))
                    continue;
                Walk(root, entry, devices);
            }
            else if (entry != "/dev/console" && ToNode(entry, s) is { } node)
            {
                devices.Add(node);
            }
        }
    }

    static DeviceNode? ToNode(string path, FileStatus status)
    {
        var type = status.Type switch
        {
            0x2000 => "c",
            0x6000 => "b",
            _ => null,
        };
        return type is null ? null : new DeviceNode(path, type, status.RdevMajor, status.RdevMinor, status.Mode & 0xFFF, status.Uid, status.Gid, "rwm");
    }

    /// <summary>statx following symlinks (/dev/disk/by-id/... are links to the node).</summary>
    static FileStatus? StatFollowing(string path)
    {
        var target = path;
        try
        {
            if (new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } link)
                target = link.FullName;
        }
        catch (IOException)
        {
            return null;
        }
        return Libc.TryStatAt(Libc.AT_FDCWD, target);
    }
}
