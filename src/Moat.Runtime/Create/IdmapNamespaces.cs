using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Create;

/// <summary>
/// User namespaces carrying the id mappings of idmapped mounts (mount uidMappings/gidMappings):
/// made by the runtime on the host, passed to the init as descriptors, used by mount_setattr.
/// Mounts with equal mappings share one namespace.
/// </summary>
public sealed class IdmapNamespaces : IDisposable
{
    readonly Dictionary<string, FileDescriptor> byMapping = new(StringComparer.Ordinal);

    /// <summary>Descriptor numbers by mount index, for the init.</summary>
    public Dictionary<int, int> FdsByMount { get; } = [];

    public static bool IsIdmapped(Mount mount) =>
        (mount.UidMappings?.Count ?? 0) > 0 || (mount.GidMappings?.Count ?? 0) > 0 ||
        (mount.Options ?? []).Any(o => o is "idmap" or "ridmap");

    public static IdmapNamespaces For(IReadOnlyList<Mount> mounts)
    {
        var result = new IdmapNamespaces();
        try
        {
            for (var i = 0; i < mounts.Count; i++)
            {
                var mount = mounts[i];
                if (!IsIdmapped(mount))
                    continue;
                if ((mount.UidMappings?.Count ?? 0) == 0 || (mount.GidMappings?.Count ?? 0) == 0)
                    throw new RuntimeException($"mounts[{i}]: an idmapped mount needs both uidMappings and gidMappings");
                var uidMap = IdMapText.Format(mount.UidMappings);
                var gidMap = IdMapText.Format(mount.GidMappings);
                var key = uidMap + "|" + gidMap;
                if (!result.byMapping.TryGetValue(key, out var fd))
                {
                    fd = Create(uidMap, gidMap, i);
                    result.byMapping[key] = fd;
                }
                result.FdsByMount[i] = fd.Fd;
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    static FileDescriptor Create(string uidMap, string gidMap, int index)
    {
        try
        {
            return UserNamespaceFile.Create(uidMap, gidMap);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"mounts[{index}]: cannot set up the id mapping ({uidMap.Trim().Replace('\n', ';')}): {e.Message}", e);
        }
    }

    public void Dispose()
    {
        foreach (var fd in byMapping.Values)
            fd.Dispose();
    }
}
