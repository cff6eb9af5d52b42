using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Host;

namespace Moat.Runtime.Create;

/// <summary>
/// Gives a new user namespace its id maps in the way the caller is allowed to. Root writes
/// /proc/PID/uid_map and gid_map itself. An unprivileged user (rootless) may write only a map of its
/// own id, and for gid_map only after denying setgroups (the kernel's rule since 3.19); any other map
/// goes through the setuid helpers newuidmap/newgidmap, which check /etc/subuid and /etc/subgid (as
/// runc and crun do).
/// </summary>
public static class IdMapWriter
{
    public static void Write(int pid, IReadOnlyList<LinuxIdMapping>? uids, IReadOnlyList<LinuxIdMapping>? gids)
    {
        if (Libc.geteuid() == 0)
        {
            WriteProcFile(pid, "uid_map", IdMapText.Format(uids));
            WriteProcFile(pid, "gid_map", IdMapText.Format(gids));
            return;
        }
        if (IsOwnIdOnly(uids, Libc.geteuid()))
            WriteProcFile(pid, "uid_map", IdMapText.Format(uids));
        else
            RunHelper("newuidmap", pid, uids);
        if (IsOwnIdOnly(gids, Libc.getegid()))
        {
            WriteProcFile(pid, "setgroups", "deny");
            WriteProcFile(pid, "gid_map", IdMapText.Format(gids));
        }
        else
            RunHelper("newgidmap", pid, gids);
    }

    /// <summary>Whether a map holds only the caller's own id, the one map an unprivileged user may write.</summary>
    public static bool IsOwnIdOnly(IReadOnlyList<LinuxIdMapping>? mappings, uint id) =>
        mappings is [{ Size: 1 } only] && only.HostId == id;

    /// <summary>newuidmap/newgidmap's arguments: the pid, then "inside outside count" per mapping.</summary>
    public static List<string> HelperArguments(string helper, int pid, IReadOnlyList<LinuxIdMapping>? mappings)
    {
        var argv = new List<string> { helper, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var m in mappings ?? [])
        {
            argv.Add(m.ContainerId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            argv.Add(m.HostId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            argv.Add(m.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return argv;
    }

    static void RunHelper(string helper, int pid, IReadOnlyList<LinuxIdMapping>? mappings)
    {
        var path = HostProgram.Find(helper, ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]) ?? throw new RuntimeException(
            $"mapping ids other than your own ({IdMapText.Format(mappings).Replace('\n', ';').TrimEnd(';')}) without root needs {helper}, which is not installed (Debian: apt-get install uidmap, and give the user a range in /etc/subuid and /etc/subgid)");
        var (status, stdout, stderr) = HostProgram.Run(path, HelperArguments(helper, pid, mappings), []);
        if (status != 0)
        {
            var text = (stderr + stdout).Trim();
            throw new RuntimeException($"{helper} refused the map {IdMapText.Format(mappings).Replace('\n', ';').TrimEnd(';')} (exit status {status}): {(text.Length > 0 ? text : "no message")}; the ranges must be in /etc/sub{(helper == "newuidmap" ? "uid" : "gid")} for this user");
        }
    }

    static void WriteProcFile(int pid, string file, string content)
    {
        try
        {
            Libc.WriteFile($"/proc/{pid}/{file}", content);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"cannot write {file} ({content.Replace('\n', ';').TrimEnd(';')}): {e.Message}", e);
        }
    }
}
