using Moat.Oci;

namespace Moat.Images.Bundles;

/// <summary>The spec's mounts: Docker's defaults adjusted by the options, then the run's own mounts, then the reaper for `--init`.</summary>
internal static class MountSettings
{
    public static List<Mount> For(BundleOptions options)
    {
        var mounts = SecureDefaults.Mounts();
        foreach (var mount in mounts)
        {
            if (mount.Destination == "/dev/shm" && options.ShmSize is { } size)
                mount.Options = [.. mount.Options!.Where(o => !o.StartsWith("size=", StringComparison.Ordinal)), $"size={size / 1024}k"];
            // Docker lets a privileged container write /sys and its cgroups (mount and device tools need that),
            // unless the root filesystem is read-only.
            if (options.Privileged && !options.ReadOnlyRootfs && mount.Type is "sysfs" or "cgroup")
                mount.Options = [.. mount.Options!.Where(o => o != "ro"), "rw"];
        }

        // A run mount at a default's destination replaces it (`-v /srv/shm:/dev/shm`, `--tmpfs /dev/shm`).
        var own = options.Mounts.Select(Copy).ToList();
        if (options.Init)
            own.Add(InitMount(options));
        mounts.RemoveAll(m => own.Any(o => SamePath(o.Destination, m.Destination)));
        // Parents before children, as docker orders them, so a mount under another lands on top of it;
        // OrderBy is stable: same-depth mounts keep the order given.
        mounts.AddRange(own.OrderBy(m => Depth(m.Destination)));
        return mounts;
    }

    static Mount InitMount(BundleOptions options)
    {
        var binary = options.InitBinary
            ?? throw new BundleException("--init needs the path of Moat's reaper (moat-init) and none was given");
        if (!File.Exists(binary))
            throw new BundleException($"--init needs Moat's reaper, but {binary} does not exist (build it with `make build`)");
        return new Mount
        {
            Destination = BundleOptions.InitPathInContainer,
            Type = "bind",
            Source = Path.GetFullPath(binary),
            Options = ["bind", "ro", "nosuid", "nodev", "rprivate"],
        };
    }

    static Mount Copy(Mount m) => new()
    {
        Destination = m.Destination,
        Type = m.Type,
        Source = m.Source,
        Options = m.Options is null ? null : [.. m.Options],
        UidMappings = m.UidMappings,
        GidMappings = m.GidMappings,
    };

    static bool SamePath(string a, string b) => a.TrimEnd('/') == b.TrimEnd('/');

    static int Depth(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
}
