using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Tiers;
using Moat.Vm.Guest;

namespace Moat.Vm.Host;

/// <summary>A host directory the guest sees over 9p, by mount tag (mounted at /run/shares/TAG in the guest).</summary>
public sealed record Share(string Tag, string HostPath, bool ReadOnly);

/// <summary>
/// The guest's copy of a container's config: the same container, with every host path replaced by
/// its place in the guest. The root filesystem and each bind source become 9p shares; a network
/// namespace to join stays on the host, where QEMU's taps go (<see cref="GuestNetworking"/>), and
/// the container in the guest shares the guest's own network namespace, which the agent gives the
/// same interfaces; any other host namespace cannot cross into a guest and is refused by name.
/// prestart, createRuntime, poststart and poststop hooks run on the host (VmTier), not in the guest.
/// </summary>
public static class GuestConfig
{
    public static (Spec Guest, IReadOnlyList<Share> Shares, string? NetworkNamespace) For(Spec spec, string id, string bundle, Action<string> warn)
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

        string? network = null;
        foreach (var (ns, index) in (guest.Linux?.Namespaces ?? []).Select((n, i) => (n, i)))
            if (ns.Path is { Length: > 0 })
            {
                if (ns.Type != NamespaceType.Network)
                    throw new RuntimeException($"linux.namespaces[{index}] ({ns.Type}): the vm tier cannot join a host namespace ({ns.Path})");
                if (!File.Exists(ns.Path))
                    throw new RuntimeException($"linux.namespaces[{index}] (network): {ns.Path} does not exist");
                network = ns.Path;
            }
        if (network is not null)
            guest.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Network);

        foreach (var (mount, index) in (guest.Mounts ?? []).Select((m, i) => (m, i)))
        {
            if (!mount.IsBind() || mount.Source is not { Length: > 0 } source)
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

        // createContainer and startContainer hooks run in the container's namespaces, which are the guest's: a host program cannot.
        if (guest.Hooks is { } hooks && (hooks.CreateContainer?.Count > 0 || hooks.StartContainer?.Count > 0))
            warn("the vm tier cannot run createContainer and startContainer hooks (they would run inside the guest): they are ignored");
        guest.Hooks = null;

        guest.Annotations = new Dictionary<string, string>(guest.Annotations ?? [], StringComparer.Ordinal);
        guest.Annotations.Remove(IsolationNames.Annotation);
        guest.Annotations[VmNames.IdAnnotation] = id;
        return (guest, shares, network);
    }
}
