using static Moat.Interop.Libc;

namespace Moat.Runtime.Rootfs;

/// <summary>
/// A mount's option strings split the way mount(2) needs them: flags to set and clear, propagation
/// changes (each its own call), recursive attributes (mount_setattr), and the rest as filesystem data.
/// </summary>
public sealed record MountOptions(
    ulong Flags,
    ulong ClearedFlags,
    IReadOnlyList<ulong> Propagation,
    ulong RecursiveSet,
    ulong RecursiveClear,
    string Data,
    bool Bind,
    bool RecursiveBind,
    bool Idmap,
    bool CopyUp = false)
{
    static readonly Dictionary<string, (bool Clear, ulong Flag)> FlagOptions = new()
    {
        ["ro"] = (false, MS_RDONLY), ["rw"] = (true, MS_RDONLY),
        ["nosuid"] = (false, MS_NOSUID), ["suid"] = (true, MS_NOSUID),
        ["nodev"] = (false, MS_NODEV), ["dev"] = (true, MS_NODEV),
        ["noexec"] = (false, MS_NOEXEC), ["exec"] = (true, MS_NOEXEC),
        ["sync"] = (false, MS_SYNCHRONOUS), ["async"] = (true, MS_SYNCHRONOUS),
        ["dirsync"] = (false, MS_DIRSYNC),
        ["remount"] = (false, MS_REMOUNT),
        ["mand"] = (false, MS_MANDLOCK), ["nomand"] = (true, MS_MANDLOCK),
        ["noatime"] = (false, MS_NOATIME), ["atime"] = (true, MS_NOATIME),
        ["nodiratime"] = (false, MS_NODIRATIME), ["diratime"] = (true, MS_NODIRATIME),
        ["relatime"] = (false, MS_RELATIME), ["norelatime"] = (true, MS_RELATIME),
        ["strictatime"] = (false, MS_STRICTATIME), ["nostrictatime"] = (true, MS_STRICTATIME),
        ["lazytime"] = (false, MS_LAZYTIME), ["nolazytime"] = (true, MS_LAZYTIME),
        ["nosymfollow"] = (false, MS_NOSYMFOLLOW), ["symfollow"] = (true, MS_NOSYMFOLLOW),
        ["silent"] = (false, MS_SILENT), ["loud"] = (true, MS_SILENT),
    };

    static readonly Dictionary<string, ulong> PropagationOptions = new()
    {
        ["private"] = MS_PRIVATE, ["rprivate"] = MS_PRIVATE | MS_REC,
        ["shared"] = MS_SHARED, ["rshared"] = MS_SHARED | MS_REC,
        ["slave"] = MS_SLAVE, ["rslave"] = MS_SLAVE | MS_REC,
        ["unbindable"] = MS_UNBINDABLE, ["runbindable"] = MS_UNBINDABLE | MS_REC,
    };

    // MOUNT_ATTR_* bits for the recursive options ("rro", "rnosuid", ...) applied with mount_setattr(AT_RECURSIVE).
    const ulong AttrRdonly = 1, AttrNosuid = 2, AttrNodev = 4, AttrNoexec = 8, AttrNoatime = 0x10,
        AttrStrictatime = 0x20, AttrNodiratime = 0x80, AttrNosymfollow = 0x00200000;

    // MOUNT_ATTR__ATIME: relatime (0), noatime and strictatime are an enumeration in these bits, not flags.
    const ulong AttrAtimeMask = 0x70;

    static readonly Dictionary<string, (bool Clear, ulong Attr)> RecursiveOptions = new()
    {
        ["rro"] = (false, AttrRdonly), ["rrw"] = (true, AttrRdonly),
        ["rnosuid"] = (false, AttrNosuid), ["rsuid"] = (true, AttrNosuid),
        ["rnodev"] = (false, AttrNodev), ["rdev"] = (true, AttrNodev),
        ["rnoexec"] = (false, AttrNoexec), ["rexec"] = (true, AttrNoexec),
        ["rnodiratime"] = (false, AttrNodiratime), ["rdiratime"] = (true, AttrNodiratime),
        ["rnoatime"] = (false, AttrNoatime), ["ratime"] = (true, AttrNoatime),
        // relatime is the value 0 of the access-time field: clear the whole field, set nothing.
        ["rrelatime"] = (true, AttrAtimeMask),
        ["rstrictatime"] = (false, AttrStrictatime), ["rnostrictatime"] = (true, AttrStrictatime),
        ["rnosymfollow"] = (false, AttrNosymfollow), ["rsymfollow"] = (true, AttrNosymfollow),
    };

    /// <summary>Every option name Parse understands (for the features document).</summary>
    public static IReadOnlyList<string> KnownOptions { get; } =
        [.. FlagOptions.Keys, .. PropagationOptions.Keys, .. RecursiveOptions.Keys, "bind", "rbind", "defaults", "idmap", "ridmap", "tmpcopyup"];

    public static MountOptions Parse(string type, IEnumerable<string>? options)
    {
        ulong flags = 0, cleared = 0, recursiveSet = 0, recursiveClear = 0;
        var propagation = new List<ulong>();
        var data = new List<string>();
        var bind = type == "bind";
        var rbind = false;
        var idmap = false;
        var copyUp = false;
        foreach (var option in options ?? [])
        {
            if (option == "bind")
                bind = true;
            else if (option == "rbind")
                bind = rbind = true;
            else if (option is "idmap" or "ridmap")
                idmap = true;
            else if (option == "tmpcopyup")
            {
                // runc's and crun's extension (podman's --read-only asks it for /tmp, /run, /var/tmp).
                if (type != "tmpfs")
                    throw new RuntimeException($"mount option \"tmpcopyup\" applies to tmpfs mounts only, not {(type.Length > 0 ? type : "a mount without a type")}");
                copyUp = true;
            }
            else if (option == "defaults")
                continue;
            else if (FlagOptions.TryGetValue(option, out var f))
            {
                if (f.Clear) { flags &= ~f.Flag; cleared |= f.Flag; }
                else { flags |= f.Flag; cleared &= ~f.Flag; }
            }
            else if (PropagationOptions.TryGetValue(option, out var p))
                propagation.Add(p);
            else if (RecursiveOptions.TryGetValue(option, out var r))
            {
                // mount_setattr(2) changes the access time only with all of MOUNT_ATTR__ATIME in attr_clr
                // and one value in attr_set (EINVAL otherwise); clearing noatime/strictatime means relatime.
                if ((r.Attr & AttrAtimeMask) != 0)
                {
                    recursiveSet = (recursiveSet & ~AttrAtimeMask) | (r.Clear ? 0 : r.Attr);
                    recursiveClear |= AttrAtimeMask;
                }
                else if (r.Clear) { recursiveClear |= r.Attr; recursiveSet &= ~r.Attr; }
                else { recursiveSet |= r.Attr; recursiveClear &= ~r.Attr; }
            }
            else
                data.Add(option);
        }
        return new MountOptions(flags, cleared, propagation, recursiveSet, recursiveClear, string.Join(',', data), bind, rbind, idmap, copyUp);
    }

    /// <summary>Flags that a bind mount only gets from a second, remounting call.</summary>
    public ulong RemountFlags => Flags & ~(MS_REMOUNT | MS_BIND | MS_REC);

    public static ulong ParsePropagation(string? value) => value switch
    {
        null or "" => 0,
        _ when PropagationOptions.TryGetValue(value, out var p) => p,
        _ => throw new RuntimeException($"linux.rootfsPropagation \"{value}\" is not a propagation mode"),
    };
}
