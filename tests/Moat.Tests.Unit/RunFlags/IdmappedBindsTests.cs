using Moat.Engine.Containers;
using Moat.Images.Snapshots;
using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.RunFlags;

/// <summary>Bind mounts of a container with a user namespace carry its maps where the filesystem can take them.</summary>
public class IdmappedBindsTests
{
    static Spec SpecWith(bool userNamespace, params Mount[] mounts) => new()
    {
        Mounts = [.. mounts],
        Linux = userNamespace
            ? new Linux
            {
                UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1 << 30, Size = 65536 }],
                GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = (1 << 30) + 65536, Size = 65536 }],
            }
            : new Linux(),
    };

    [Fact]
    public void BindsOnIdmappableFilesystemsGetTheContainersMaps()
    {
        var spec = SpecWith(true,
            new Mount { Destination = "/data", Type = "bind", Source = "/var/lib/moat/volumes/v/_data", Options = ["rbind", "rw"] },
            new Mount { Destination = "/etc/hosts", Source = "/run/x/hosts", Options = ["rbind", "ro"] },
            new Mount { Destination = "/proc-ish", Type = "bind", Source = "/not-idmappable", Options = ["rbind"] },
            new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs" });
        IdmappedBinds.Apply(spec, source => source != "/not-idmappable");
        Assert.Equal(1u << 30, Assert.Single(spec.Mounts![0].UidMappings!).HostId);
        Assert.Equal((1u << 30) + 65536, Assert.Single(spec.Mounts[0].GidMappings!).HostId);
        Assert.NotNull(spec.Mounts[1].UidMappings);
        Assert.Null(spec.Mounts[2].UidMappings);
        Assert.Null(spec.Mounts[3].UidMappings);
    }

    [Fact]
    public void WithoutAUserNamespaceNothingChanges()
    {
        var spec = SpecWith(false, new Mount { Destination = "/data", Type = "bind", Source = "/srv", Options = ["rbind"] });
        IdmappedBinds.Apply(spec, _ => true);
        Assert.Null(spec.Mounts![0].UidMappings);
    }

    [Fact]
    public void LayerMapsAreWrittenAsUidMapLinesAndTheirRootIsFound()
    {
        var map = LayerIdMap.From(
            [new LinuxIdMapping { ContainerId = 0, HostId = 200000, Size = 1000 }, new LinuxIdMapping { ContainerId = 1000, HostId = 5000, Size = 1 }],
            [new LinuxIdMapping { ContainerId = 0, HostId = 300000, Size = 1000 }])!;
        Assert.Equal("0 200000 1000\n1000 5000 1\n", map.UidMap);
        Assert.Equal(200000u, LayerIdMap.RootOf(map.UidMap));
        Assert.Equal(300000u, LayerIdMap.RootOf(map.GidMap));
        Assert.Null(LayerIdMap.RootOf("1 200000 1000\n"));
        Assert.Null(LayerIdMap.From([], []));
        // Seen through the idmapped layers as host ids; stored on disk as the container's.
        Assert.Equal((0u, 0u), map.OnDisk((200000, 300000)));
        Assert.Equal((999u, 999u), map.OnDisk((200999, 300999)));
        Assert.Equal((1000u, 42u), map.OnDisk((5000, 42)));
    }
}
