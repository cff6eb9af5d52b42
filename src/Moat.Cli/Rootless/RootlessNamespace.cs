using System.Globalization;
using System.Runtime.InteropServices;
using Moat.Engine.Containers;
using Moat.Images.Storage;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Create;

namespace Moat.Cli.Rootless;

/// <summary>
/// A user's `moat` works inside a user namespace of its own, podman's design (docs/rootless.md): root there is
/// the user, ids 1..N are the user's subordinate range (/etc/subuid, /etc/subgid, written by newuidmap and
/// newgidmap), so layers unpack with their owners and overlayfs mounts. One long-lived holder process per user
/// keeps that namespace and a mount namespace owned by it (where the containers' overlay mounts live) from one
/// command to the next; its pid and start time are in `$XDG_RUNTIME_DIR/moat/userns.pid`. Each command made
/// outside re-executes itself with the holder's namespaces open, and native/rootless.c joins them before the
/// .NET runtime starts threads (the kernel refuses the join to a multi-threaded process).
/// </summary>
public static class RootlessNamespace
{
    const string JoinVariable = "_MOAT_ROOTLESS_JOIN", TriedVariable = "_MOAT_ROOTLESS_TRIED";
    const string PidFile = "userns.pid", LockFile = "userns.lock";

    /// <summary>
    /// For a user outside the namespace: enters it (re-executing moat: this returns only on failure, with the
    /// exit status). Null when there is nothing to do (root, or already inside).
    /// </summary>
    public static int? Enter(string[] args, DescriptorWriter error)
    {
        if (Libc.geteuid() == 0)
            return null;
        try
        {
            int status;
            try
            {
                status = NativeRootless.JoinStatus();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw new RootlessException("this build of moat cannot run without root: the rootless helper (native/rootless.c) is linked only into the published binary (make build)");
            }
            if (status > 0)
                throw new RootlessException($"cannot enter the rootless user namespace ({NativeRootless.JoinStep()}: {Errors.Describe(status)}); if its holder process is gone or foreign, remove {Path.Combine(RootlessIdentity.RunDirectory, PidFile)} and retry");
            if (Environment.GetEnvironmentVariable(TriedVariable) is not null)
                throw new RootlessException("moat re-executed itself to enter its user namespace but the join did not happen (was _MOAT_ROOTLESS_JOIN removed from the environment?)");
            var (userns, mntns) = OpenHolderNamespaces(error);
            Exec(args, userns, mntns);
            return 125; // not reached
        }
        catch (Exception e) when (e is RootlessException or SyscallException or RuntimeException or IOException or UnauthorizedAccessException)
        {
            error.Write($"Error: {e.Message.TrimEnd('.')}\n");
            return 125;
        }
    }

    /// <summary>The holder's user and mount namespaces, opened without close-on-exec; the holder is made first when there is none.</summary>
    static (int UserNs, int MntNs) OpenHolderNamespaces(DescriptorWriter error)
    {
        var run = RootlessIdentity.RunDirectory;
        EnsurePrivateDirectory(run);
        using var lockFd = Libc.Open(Path.Combine(run, LockFile), Libc.O_RDWR | Libc.O_CREAT | Libc.O_NOFOLLOW, 0b110_000_000);
        Errors.Check(Errors.RetryOnEintr(() => Libc.flock(lockFd.Fd, Libc.LOCK_EX)), "flock", Path.Combine(run, LockFile));
        var (pid, start) = ReadPidFile(Path.Combine(run, PidFile));
        if (!IsOurHolder(pid, start))
        {
            pid = StartHolder(error);
            start = ProcStat.StartTime(pid) ?? throw new RootlessException("the rootless namespace's holder process exited as soon as it started");
            WriteAtomically(Path.Combine(run, PidFile), $"{pid} {start}\n");
        }
        var procDir = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/";
        var user = Errors.Check(Libc.open(procDir + "user", Libc.O_RDONLY, 0), "open", procDir + "user");
        var mnt = Errors.Check(Libc.open(procDir + "mnt", Libc.O_RDONLY, 0), "open", procDir + "mnt");
        // Opened by pid: make sure it was still the holder (not a recycled pid) when we opened them.
        if (!IsOurHolder(pid, start))
            throw new RootlessException($"the rootless namespace's holder (pid {pid}) exited while moat was joining it; retry");
        return (user, mnt);
    }

    static bool IsOurHolder(int pid, ulong start) =>
        pid > 0 && ProcStat.IsAlive(pid, start)
        && RootlessIdentity.ZeroMapsTo(Libc.TryReadText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/uid_map")) == Libc.geteuid();

    static int StartHolder(DescriptorWriter error)
    {
        var uid = Libc.geteuid();
        var gid = Libc.getegid();
        var user = RootlessIdentity.UserName;
        var subuid = Subordinate("/etc/subuid", user, uid);
        var subgid = Subordinate("/etc/subgid", user, uid);
        if (subuid.Count == 0 || subgid.Count == 0)
            error.Write($"WARN: {user} has no subordinate {(subuid.Count == 0 ? "uids in /etc/subuid" : "gids in /etc/subgid")}: moat maps only your own id (root in containers); files of other owners in images become yours, and a container cannot switch to another user (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}, then stop every moat process of yours and run again)\n");
        var pid = NativeRootless.SpawnHolder();
        if (pid < 0)
            throw new RootlessException($"cannot make a user namespace ({Errors.Describe(-pid)}); is kernel.unprivileged_userns_clone or user.max_user_namespaces 0?");
        try
        {
            IdMapWriter.Write(pid, Map(uid, subuid.Count > 0 && subgid.Count > 0 ? subuid : []), Map(gid, subuid.Count > 0 && subgid.Count > 0 ? subgid : []));
        }
        catch
        {
            Libc.kill(pid, 9);
            throw;
        }
        return pid;
    }

    /// <summary>Root (0) is the user; 1.. are the subordinate ranges, one after another.</summary>
    static List<LinuxIdMapping> Map(uint own, List<(uint Start, uint Count)> ranges)
    {
        var map = new List<LinuxIdMapping> { new() { ContainerId = 0, HostId = own, Size = 1 } };
        uint next = 1;
        foreach (var (start, count) in ranges)
        {
            map.Add(new LinuxIdMapping { ContainerId = next, HostId = start, Size = count });
            next += count;
        }
        return map;
    }

    /// <summary>The user's ranges in an /etc/subuid-format file (by name or by number, as shadow's helpers accept).</summary>
    static List<(uint, uint)> Subordinate(string file, string user, uint id)
    {
        var ranges = new List<(uint, uint)>();
        foreach (var line in (Libc.TryReadText(file) ?? "").Split('\n'))
        {
            var f = line.Trim().Split(':');
            if (f.Length == 3 && (f[0] == user || f[0] == id.ToString(CultureInfo.InvariantCulture))
                && uint.TryParse(f[1], CultureInfo.InvariantCulture, out var start) && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var count) && count > 0)
                ranges.Add((start, count));
        }
        return ranges;
    }

    static (int Pid, ulong Start) ReadPidFile(string path)
    {
        var f = (Libc.TryReadText(path) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return f.Length == 2 && int.TryParse(f[0], CultureInfo.InvariantCulture, out var pid) && ulong.TryParse(f[1], CultureInfo.InvariantCulture, out var start)
            ? (pid, start) : (0, 0);
    }

    static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        using (var fd = Libc.Open(temp, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_NOFOLLOW, 0b110_000_000))
        {
            Libc.WriteAll(fd.Fd, System.Text.Encoding.ASCII.GetBytes(text), temp);
            Errors.Check(Libc.fsync(fd.Fd), "fsync", temp);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The run directory must be the user's own and private: another user's (a planted /tmp directory) is refused.</summary>
    static void EnsurePrivateDirectory(string path)
    {
        if (!Directory.Exists(path))
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (mode, owner, _) = Libc.LStat(path);
        if ((mode & 0xF000) != 0x4000 || owner != Libc.geteuid())
            throw new RootlessException($"{path} is not a directory owned by you (uid {Libc.geteuid()}); set XDG_RUNTIME_DIR to a private directory of yours");
        if ((mode & 0x3F) != 0)
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    static unsafe void Exec(string[] args, int userns, int mntns)
    {
        var path = Environment.ProcessPath ?? throw new RootlessException("cannot find moat's own executable to re-execute it in the user namespace");
        var argv = new List<string> { path };
        argv.AddRange(args);
        var envp = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            if ((string)entry.Key is not (JoinVariable or TriedVariable))
                envp.Add($"{entry.Key}={entry.Value}");
        envp.Add($"{JoinVariable}={userns.ToString(CultureInfo.InvariantCulture)},{mntns.ToString(CultureInfo.InvariantCulture)}");
        envp.Add($"{TriedVariable}=1");
        var allocations = new List<IntPtr>();
        try
        {
            var argvPtr = Strings(argv, allocations);
            var envpPtr = Strings(envp, allocations);
            Libc.execve(path, argvPtr, envpPtr);
            throw new SyscallException("execve", Errors.LastErrno, path);
        }
        finally
        {
            foreach (var p in allocations)
                Marshal.FreeHGlobal(p);
        }
    }

    static unsafe IntPtr* Strings(List<string> items, List<IntPtr> allocations)
    {
        var array = (IntPtr*)Marshal.AllocHGlobal(IntPtr.Size * (items.Count + 1));
        allocations.Add((IntPtr)array);
        for (var i = 0; i < items.Count; i++)
        {
            array[i] = Marshal.StringToCoTaskMemUTF8(items[i]);
            allocations.Add(array[i]);
        }
        array[items.Count] = IntPtr.Zero;
        return array;
    }
}

public sealed class RootlessException(string message) : Exception(message);
