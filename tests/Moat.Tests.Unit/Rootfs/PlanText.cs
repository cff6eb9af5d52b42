using Moat.Runtime.Rootfs;
using static Moat.Interop.Libc;

namespace Moat.Tests.Unit.Rootfs;

/// <summary>Rootfs plan steps and mount flags as short lines, so a test can state a whole plan and a failure shows what differs.</summary>
internal static class PlanText
{
    static readonly (ulong Flag, string Name)[] FlagNames =
    [
        (MS_RDONLY, "ro"), (MS_NOSUID, "nosuid"), (MS_NODEV, "nodev"), (MS_NOEXEC, "noexec"), (MS_SYNCHRONOUS, "sync"),
        (MS_REMOUNT, "remount"), (MS_MANDLOCK, "mand"), (MS_DIRSYNC, "dirsync"), (MS_NOSYMFOLLOW, "nosymfollow"),
        (MS_NOATIME, "noatime"), (MS_NODIRATIME, "nodiratime"), (MS_BIND, "bind"), (MS_MOVE, "move"),
        (MS_SILENT, "silent"), (MS_UNBINDABLE, "unbindable"), (MS_PRIVATE, "private"), (MS_SLAVE, "slave"),
        (MS_SHARED, "shared"), (MS_RELATIME, "relatime"), (MS_STRICTATIME, "strictatime"), (MS_LAZYTIME, "lazytime"),
        // Last, so that a propagation reads as "slave,rec".
        (MS_REC, "rec"),
    ];

    public static string Flags(ulong flags)
    {
        if (flags == 0)
            return "0";
        var names = new List<string>();
        foreach (var (flag, name) in FlagNames)
            if ((flags & flag) != 0)
            {
                names.Add(name);
                flags &= ~flag;
            }
        if (flags != 0)
            names.Add($"0x{flags:x}");
        return string.Join(',', names);
    }

    public static List<string> Of(IEnumerable<RootfsStep> steps) => steps.Select(Of).ToList();

    public static string Of(RootfsStep step) => step switch
    {
        SetUmask s => $"umask {Convert.ToString(s.Mask, 8)}",
        ChangePropagation p => $"propagation {(p.InRoot ? "in root " : "")}{p.Destination} {Flags(p.Flags)}",
        HostMount m => $"host mount {m.Source} on {m.Destination} type {m.Type} {Flags(m.Flags)}",
        OpenRoot r => $"open root {r.Destination}",
        AttachRoot a => $"attach fd {a.Tree.Fd} onto fd {a.Target.Fd} ({a.Destination})",
        MountFilesystem m => $"mount {m.Type} {m.Source} on {m.Destination} {Flags(m.Flags)}"
            + (m.Data is null ? "" : $" data {m.Data}") + (m.CopyUp ? " copyup" : "")
            + (m.Fallback is { } f ? $" else(errno {f.OnErrno}) bind{(f.Recursive ? " rec" : "")} {f.Source}{(f.Remount ? " remount " + Flags(f.RemountFlags) : "")}" : ""),
        BindMount b => $"bind {(b.OpenedSource is { } fd ? $"fd {fd.Fd}" : b.Source)} on {b.Destination}{(b.Recursive ? " rec" : "")}"
            + (b.Target == BindTarget.Directory ? " onto dir" : "") + (b.AttachDetached ? " attach" : "")
            + (b.Remount ? " remount " + Flags(b.RemountFlags) : ""),
        IdmappedBind b => $"idmapped bind {b.Source} on {b.Destination} userns fd {b.UserNamespaceFd}{(b.RecursiveTree ? " rec" : "")}{(b.RecursiveIdmap ? " ridmap" : "")}"
            + (b.RemountFlags != 0 ? " remount " + Flags(b.RemountFlags) : ""),
        SetRecursiveAttributes a => $"setattr rec {a.Destination} set 0x{a.Set:x} clear 0x{a.Clear:x}",
        Remount r => $"remount {(r.InRoot ? "in root " : "")}{r.Destination} {Flags(r.Flags)}",
        SkipUnlessHostDirectory s => $"skip {s.Count} unless dir {s.Destination}",
        MakeDevice d => $"mknod {d.Destination} {Type(d.Mode)} {Major(d.Device)}:{Minor(d.Device)} {Convert.ToString(d.Mode & 0xfff, 8)} {d.Uid}:{d.Gid}",
        BindDevice d => $"bind host device {d.Destination}",
        Symlink l => $"symlink {l.Destination} -> {l.Target}{(l.Replace ? " replace" : "")}",
        MakeDirectory d => $"mkdir {d.Destination}",
        Checkpoint c => $"checkpoint {c.Point}",
        PivotRoot p => $"pivot_root {p.Destination}",
        MoveRootAndChroot c => $"move root and chroot {c.Destination}",
        Chroot c => $"chroot {c.Destination}",
        MaskPath m => $"mask {m.Destination}",
        ReadonlyPath r => $"readonly {r.Destination}",
        _ => throw new ArgumentException($"no text for {step.GetType().Name}"),
    };

    static string Type(uint mode) => (mode & S_IFMT) switch
    {
        S_IFCHR => "c",
        S_IFBLK => "b",
        S_IFIFO => "p",
        _ => $"type 0x{mode & S_IFMT:x}",
    };

    static ulong Major(ulong dev) => ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL);

    static ulong Minor(ulong dev) => (dev & 0xff) | ((dev >> 12) & ~0xffUL);
}
