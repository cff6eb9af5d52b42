namespace Moat.Runtime.Host;

/// <summary>
/// Who runs Moat: the real user on the host (the owner recorded in a container's state), and
/// whether this process is root, and whether it runs inside a user namespace (rootless, or inside
/// another container) where "root" is someone else on the host.
/// </summary>
public sealed record HostIdentity
{
    /// <summary>The real uid of the caller, as this process sees it.</summary>
    public required uint Uid { get; init; }
    /// <summary>The same user seen from the initial user namespace (equal to Uid outside a user namespace).</summary>
    public required uint HostUid { get; init; }
    /// <summary>The host user's name from /etc/passwd, or its number when it has none.</summary>
    public required string UserName { get; init; }
    public required bool IsRoot { get; init; }
    public required bool InUserNamespace { get; init; }

    public static HostIdentity Detect(IHostProbe probe)
    {
        var uid = probe.RealUid;
        var uidMap = probe.ReadText("/proc/self/uid_map");
        var hostUid = MapToHost(uidMap, uid);
        return new HostIdentity
        {
            Uid = uid,
            HostUid = hostUid,
            UserName = NameOf(probe.ReadText("/etc/passwd"), hostUid) ?? hostUid.ToString(),
            IsRoot = probe.EffectiveUid == 0,
            InUserNamespace = uidMap is not null && !IsInitialMap(uidMap),
        };
    }

    /// <summary>The initial user namespace maps every id to itself: "0 0 4294967295".</summary>
    static bool IsInitialMap(string uidMap)
    {
        var fields = uidMap.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return fields is ["0", "0", "4294967295"];
    }

    /// <summary>The outer id of <paramref name="uid"/> through a uid_map ("inside outside count" lines).</summary>
    public static uint MapToHost(string? uidMap, uint uid)
    {
        foreach (var line in (uidMap ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && uint.TryParse(f[0], out var inside) && uint.TryParse(f[1], out var outside)
                && uint.TryParse(f[2], out var count) && uid >= inside && uid - inside < count)
                return outside + (uid - inside);
        }
        return uid;
    }

    /// <summary>The name of a uid in passwd(5) text (<see cref="Passwd.Find"/>), or null.</summary>
    public static string? NameOf(string? passwd, uint uid) =>
        passwd is not null && Passwd.Find(passwd, uid) is { Name.Length: > 0 } entry ? entry.Name : null;
}
