using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Tiers;
using Moat.Vm.Guest;

namespace Moat.Vm.Host;

/// <summary>A host directory the guest sees over 9p, by mount tag (mounted at /run/shares/TAG in the guest).</summary>
public sealed record Share(string Tag, string HostPath, bool ReadOnly);

/// <summary>
/// The guest's copy of a container's config: the same container, with every host path replaced by
/// its place in the guest. The root filesystem and each bind source become 9p shares; what cannot
/// cross into a guest (a host namespace to join) is refused by name; hooks, which run on the host
/// in the container tier, are not run (a warning).
/// </summary>
public static class GuestConfig
{
    public static (Spec Guest, IReadOnlyList<Share> Shares) For(Spec spec, string id, string bundle, Action<string> warn)
    {
        // The codec's round trip is a deep copy: the host's state keeps the config as given.
        var guest = Moat.Oci.Json.SpecJson.ReadSpec(Moat.Oci.Json.SpecJson.ToUtf8Bytes(spec));
        var shares = new List<Share>();
        var root = guest.Root ?? throw new RuntimeException("root.path is required");
        var rootfs = Path.GetFullPath(root.Path, bundle);
        if (!Directory.Exists(rootfs))
            throw new RuntimeException($"root.path {rootfs}: no such directory");
        shares.Add(new Share(VmNames.RootfsTag, rootfs, root.Readonly));
        root.Path = $"{GuestAgent.SharesDirectory}/{VmNames.RootfsTag}";

        foreach (var (ns, index) in (guest.Linux?.Namespaces ?? []).Select((n, i) => (n, i)))
            if (ns.Path is { Length: > 0 })
                throw new RuntimeException($"linux.namespaces[{index}] ({ns.Type}): the vm tier cannot join a host namespace ({ns.Path})");

        foreach (var (mount, index) in (guest.Mounts ?? []).Select((m, i) => (m, i)))
        {
            var bind = mount.Type == "bind" || (mount.Options ?? []).Any(o => o is "bind" or "rbind");
            if (!bind || mount.Source is not { Length: > 0 } source)
                continue;
            source = Path.GetFullPath(source, bundle);
            var tag = $"m{shares.Count - 1}";
            var readOnly = (mount.Options ?? []).Contains("ro");
            if (Directory.Exists(source))
            {
                shares.Add(new Share(tag, source, readOnly));
                mount.Source = $"{GuestAgent.SharesDirectory}/{tag}";
            }
            else if (File.Exists(source))
            {
                // 9p shares directories: a file goes through its directory, which only the agent sees.
                shares.Add(new Share(tag, Path.GetDirectoryName(source)!, readOnly));
                mount.Source = $"{GuestAgent.SharesDirectory}/{tag}/{Path.GetFileName(source)}";
            }
            else
                throw new RuntimeException($"mounts[{index}] ({mount.Destination}): bind source {source} does not exist");
        }

        if (guest.Hooks is { } hooks && (hooks.Prestart?.Count > 0 || hooks.CreateRuntime?.Count > 0 || hooks.CreateContainer?.Count > 0
                                         || hooks.StartContainer?.Count > 0 || hooks.Poststart?.Count > 0 || hooks.Poststop?.Count > 0))
            warn("the vm tier does not run OCI hooks yet: hooks in config.json are ignored");
        guest.Hooks = null;

        guest.Annotations = new Dictionary<string, string>(guest.Annotations ?? [], StringComparer.Ordinal);
        guest.Annotations.Remove(IsolationNames.Annotation);
        guest.Annotations[VmNames.IdAnnotation] = id;
        return (guest, shares);
    }
}
