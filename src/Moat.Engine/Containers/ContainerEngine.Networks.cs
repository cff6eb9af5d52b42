using Moat.Engine.Run;
using Moat.Engine.Store;
using Moat.Network;
using Moat.Network.Store;
using Moat.Oci;

namespace Moat.Engine.Containers;

/// <summary>The engine's side of networks: which containers get one, and what their spec says about it.</summary>
public sealed partial class ContainerEngine
{
    NetworkService? networks;

    /// <summary>Networks over the engine's database; namespaces under the runtime root.</summary>
    public NetworkService Networks => Moat.Images.Storage.RootlessIdentity.Active
        ? throw new EngineException("networks are root's: a user's moat cannot make bridges, veths or firewall rules on the host; its containers use --network none or host (docs/rootless.md)")
        : networks ??= new NetworkService(Images.Layout.CatalogDatabase, RuntimeRoot);

    /// <summary>none and host are the runtime's own affairs (an empty namespace, the host's); everything else is Moat.Network's.</summary>
    static bool UsesMoatNetwork(string? mode) => mode is not ("none" or "host");

    /// <summary>
    /// Before the runtime's create: the container's namespace, veths, addresses, hosts files and ports,
    /// written into the spec (the namespace joined by path, /etc/hosts and /etc/resolv.conf bind-mounted).
    /// CAP_NET_RAW is dropped unless asked for: a container on a shared bridge could otherwise forge
    /// packets (ARP, raw IP) towards its neighbours; ping works without it (ping_group_range).
    /// </summary>
    IReadOnlyList<PortMapping> AttachNetwork(RunRequest request, ContainerRecord record, Spec spec, IEnumerable<string> exposedPorts)
    {
        // MOAT_DEFAULT_NETWORK=none keeps a host's (or a test suite's) containers off the bridge unless they ask for it.
        var mode = request.Network ?? (Environment.GetEnvironmentVariable("MOAT_DEFAULT_NETWORK") is { Length: > 0 } fallback ? fallback : null);
        // A user's containers have no network unless they ask (the bridge is root's: docs/rootless.md).
        if (mode is null && Moat.Images.Storage.RootlessIdentity.Active)
            mode = "none";
        CheckRootlessNetwork(mode);
        if (mode == PastaNetwork)
            return AttachPasta(request, record.Id, spec);
        if (!UsesMoatNetwork(mode))
        {
            if (request.Publish.Count > 0 || request.Egress is not null)
                throw new EngineException($"-p and --egress need a network of Moat's; --network {mode} has none");
            return [];
        }
        string? shareWith = null;
        if (mode is not null && mode.StartsWith("container:", StringComparison.Ordinal))
        {
            var other = Store.Find(mode["container:".Length..]);
            if (request.Publish.Count > 0 || request.PublishAll || request.Egress is not null)
                throw new EngineException("-p, -P and --egress belong to the container that owns the namespace, not to one that joins it with --network container:");
            shareWith = other.Id;
        }
        var result = Networks.Attach(new AttachRequest
        {
            Container = record.Id,
            ContainerName = record.Name,
            Hostname = spec.Hostname ?? record.Name,
            FilesDirectory = DirectoryOf(record.Id),
            Networks = mode is null ? [NetworkRecord.DefaultName] : mode.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            ShareWith = shareWith,
            Ports = request.Publish,
            PublishAll = request.PublishAll ? exposedPorts.ToList() : [],
            Egress = request.Egress,
            ExtraHosts = request.AddHosts.Select(h => (h.Name, h.Address)).ToList(),
            Dns = request.Dns,
            DnsSearch = request.DnsSearch,
            DnsOptions = request.DnsOptions,
        });
        CrashPoint.Reach(CrashPoint.NetworkAttached);
        spec.Linux ??= new Linux();
        spec.Linux.Namespaces ??= [];
        spec.Linux.Namespaces.RemoveAll(n => n.Type == NamespaceType.Network);
        spec.Linux.Namespaces.Add(new LinuxNamespace { Type = NamespaceType.Network, Path = result.NamespacePath });
        spec.Mounts ??= [];
        spec.Mounts.RemoveAll(m => m.Destination is "/etc/hosts" or "/etc/resolv.conf");
        spec.Mounts.Add(new Mount { Destination = "/etc/hosts", Type = "bind", Source = result.HostsFile, Options = ["rbind", "rprivate", "rw"] });
        spec.Mounts.Add(new Mount { Destination = "/etc/resolv.conf", Type = "bind", Source = result.ResolvConfFile, Options = ["rbind", "rprivate", "rw"] });
        if (!request.Bundle.Privileged && !request.Bundle.CapAdd.Any(c => c.ToUpperInvariant() is "NET_RAW" or "CAP_NET_RAW" or "ALL") && spec.Process?.Capabilities is { } caps)
        {
            foreach (var set in new[] { caps.Bounding, caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient })
                set?.Remove("CAP_NET_RAW");
        }
        return result.Ports;
    }

    /// <summary>Whatever networking the container had (a no-op for none/host); failures are the sentence of the first.</summary>
    void ReleaseNetwork(string id)
    {
        if (!Moat.Images.Storage.RootlessIdentity.Active)
            Networks.Release(id);
        else
            ReleasePasta(id);
    }
}
