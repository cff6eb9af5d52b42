namespace Moat.Images.Bundles;

/// <summary>The identity a container's process runs as, resolved against the image's own account files.</summary>
public sealed record ImageUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string Home)
{
    /// <summary>The largest id runc and Docker accept (ids are signed 32-bit in many tools).</summary>
    const uint MaxId = int.MaxValue;

    /// <summary>
    /// Resolves a Docker/OCI user string — "", "uid", "uid:gid", "name", "name:group" (any mix) — the way
    /// runc's GetExecUser does for Docker and Podman: names are looked up in the image's /etc/passwd and
    /// /etc/group (read inside <paramref name="rootfs"/>, never the host's); a numeric uid missing from
    /// passwd is fine (gid 0, HOME /); an unknown name is an error. When no group is given, the user's
    /// primary gid comes from passwd and the groups that list the user as a member become additional gids.
    /// </summary>
    public static ImageUser Resolve(string rootfs, string? user)
    {
        var spec = string.IsNullOrEmpty(user) ? "0" : user;
        var colon = spec.IndexOf(':');
        var userPart = colon < 0 ? spec : spec[..colon];
        var groupPart = colon < 0 ? "" : spec[(colon + 1)..];
        if (userPart.Length == 0)
            throw new BundleException($"user \"{user}\" names no user before the ':' (expected user, uid, user:group or uid:gid)");

        var numericUid = TryParseId(userPart, "uid", user!);
        var passwd = RootfsFile.TryReadText(rootfs, "/etc/passwd");
        var entry = passwd is null ? null : AccountFiles.ParsePasswd(passwd)
            .FirstOrDefault(e => numericUid is { } uid ? e.Uid == uid : e.Name == userPart);
        if (entry is null && numericUid is null)
        {
            throw new BundleException(passwd is null
                ? $"user \"{userPart}\" cannot be looked up: the image has no /etc/passwd (give a numeric uid instead)"
                : $"user \"{userPart}\" is not in the image's /etc/passwd");
        }

        var uid = entry?.Uid ?? numericUid!.Value;
        var gid = entry?.Gid ?? 0;
        var home = string.IsNullOrEmpty(entry?.Home) ? "/" : entry.Home;
        List<uint> additional = [];

        if (groupPart.Length > 0)
        {
            // An explicit group replaces the primary one; like runc, no membership groups are added then.
            gid = TryParseId(groupPart, "gid", user!) ?? LookUpGroup(rootfs, groupPart);
        }
        else if (entry is not null)
        {
            var groupFile = RootfsFile.TryReadText(rootfs, "/etc/group");
            if (groupFile is not null)
            {
                foreach (var group in AccountFiles.ParseGroup(groupFile))
                {
                    if (group.Members.Contains(entry.Name) && !additional.Contains(group.Gid))
                        additional.Add(group.Gid);
                }
            }
        }
        if (uid > MaxId || gid > MaxId)
            throw new BundleException($"user \"{user}\" resolves to uid {uid}, gid {gid}: ids above {MaxId} are not accepted");
        return new ImageUser(uid, gid, additional, home);
    }

    /// <summary>`--group-add`: each a gid or a group name looked up in the image's /etc/group.</summary>
    public static List<uint> ResolveGroups(string rootfs, IReadOnlyList<string> groups)
    {
        var gids = new List<uint>();
        foreach (var group in groups)
        {
            var gid = TryParseId(group, "gid", group) ?? LookUpGroup(rootfs, group);
            if (!gids.Contains(gid))
                gids.Add(gid);
        }
        return gids;
    }

    static uint LookUpGroup(string rootfs, string name)
    {
        var groupFile = RootfsFile.TryReadText(rootfs, "/etc/group")
            ?? throw new BundleException($"group \"{name}\" cannot be looked up: the image has no /etc/group (give a numeric gid instead)");
        return AccountFiles.ParseGroup(groupFile).FirstOrDefault(g => g.Name == name)?.Gid
            ?? throw new BundleException($"group \"{name}\" is not in the image's /etc/group");
    }

    static uint? TryParseId(string text, string what, string spec)
    {
        if (text.Length == 0 || !text.All(char.IsAsciiDigit))
            return null;
        return uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id <= MaxId
            ? id
            : throw new BundleException($"user \"{spec}\": {what} {text} is out of range (0 to {MaxId})");
    }
}
