using Moat.Oci;
using Moat.Runtime.Create;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

/// <summary>What the runtime opens for the init: only under a user namespace, the root and the bind mounts.</summary>
public class BindSourcesTests
{
    static Spec SpecWith(bool userNamespace, bool mountNamespace, params Mount[] extra)
    {
        var spec = DefaultSpec.Create(rootless: false);
        var namespaces = spec.Linux!.Namespaces!;
        namespaces.RemoveAll(n => n.Type is NamespaceType.User or NamespaceType.Mount);
        if (userNamespace)
            namespaces.Add(new LinuxNamespace { Type = NamespaceType.User });
        if (mountNamespace)
            namespaces.Add(new LinuxNamespace { Type = NamespaceType.Mount });
        spec.Mounts!.AddRange(extra);
        return spec;
    }

    static readonly Mount[] Binds =
    [
        new() { Destination = "/data", Type = "bind", Source = "/srv/data", Options = ["rbind", "ro"] },
        new() { Destination = "/scratch", Type = "tmpfs", Source = "tmpfs" },
        new() { Destination = "/file", Source = "/etc/hostname", Options = ["bind"] },
        new() { Destination = "/mapped", Type = "bind", Source = "/srv/mapped", Options = ["bind"], UidMappings = [new() { ContainerId = 0, HostId = 1000, Size = 1 }] },
    ];

    [Fact]
    public void UnderAUserNamespaceEveryBindMountIsOpenedByTheRuntime()
    {
        var spec = SpecWith(userNamespace: true, mountNamespace: true, Binds);
        using var sources = BindSources.For(spec, NamespacePlan.From(spec.Linux), "/bundle/rootfs");
        var first = spec.Mounts!.Count - Binds.Length;
        // The root first (its copy, then its directory); the tmpfs is left to the init; binds with and without
        // an idmapping are opened, in config order.
        Assert.Equal([BindSources.RootTree, BindSources.RootTarget, first, first + 2, first + 3], sources!.Mounts);
    }

    [Fact]
    public void WithoutAUserNamespaceTheInitOpensItsOwnSources()
    {
        // The init has the runtime's credentials then: nothing to gain, no extra frame on the start path.
        var spec = SpecWith(userNamespace: false, mountNamespace: true, Binds);
        Assert.Null(BindSources.For(spec, NamespacePlan.From(spec.Linux), "/bundle/rootfs"));
    }

    [Fact]
    public void WithoutAMountNamespaceNothingIsMounted()
    {
        var spec = SpecWith(userNamespace: true, mountNamespace: false, Binds);
        Assert.Null(BindSources.For(spec, NamespacePlan.From(spec.Linux), "/bundle/rootfs"));
    }

    [Fact]
    public void TheDefaultSpecUnderAUserNamespaceOpensOnlyTheRoot()
    {
        // A mapped root may not pass a 0700 directory above root.path (mktemp -d): the runtime opens it.
        var spec = SpecWith(userNamespace: true, mountNamespace: true);
        using var sources = BindSources.For(spec, NamespacePlan.From(spec.Linux), "/bundle/rootfs");
        Assert.Equal([BindSources.RootTree, BindSources.RootTarget], sources!.Mounts);
    }
}
