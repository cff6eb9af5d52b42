using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// posix_spawn(3) of a process that outlives its starter: a new session (POSIX_SPAWN_SETSID, so no
/// terminal signal of ours reaches it), stdio on /dev/null, and one extra descriptor passed as fd 3.
/// </summary>
public static unsafe partial class Libc
{
    const short DetachedSetSid = 0x80, DetachedSetSigMask = 0x08, DetachedSetSigDefault = 0x04;

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init", SetLastError = true)]
    private static partial int DetachedAttrInit(byte* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy", SetLastError = true)]
    private static partial int DetachedAttrDestroy(byte* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags", SetLastError = true)]
    private static partial int DetachedAttrSetFlags(byte* attr, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask", SetLastError = true)]
    private static partial int DetachedAttrSetSigMask(byte* attr, byte* mask);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault", SetLastError = true)]
    private static partial int DetachedAttrSetSigDefault(byte* attr, byte* mask);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", SetLastError = true)]
    private static partial int DetachedAddOpen(byte* actions, int fd, byte* path, int flags, uint mode);

    /// <summary>
    /// Starts <paramref name="path"/> in a session of its own with stdin/stdout/stderr on /dev/null and
    /// <paramref name="passFd"/> as its descriptor <paramref name="passAs"/>; every signal at its default and
    /// none blocked (the .NET runtime blocks some in its threads). Returns the pid.
    /// </summary>
    public static int SpawnDetached(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, int passFd, int passAs)
    {
        var actions = stackalloc byte[SpawnStructSize];
        var attr = stackalloc byte[SpawnStructSize];
        var allocations = new List<IntPtr>();
        try
        {
            var rc = posix_spawn_file_actions_init(actions);
            if (rc != 0) throw new SyscallException("posix_spawn_file_actions_init", rc);
            rc = DetachedAttrInit(attr);
            if (rc != 0) throw new SyscallException("posix_spawnattr_init", rc);
            var devNull = Marshal.StringToCoTaskMemUTF8("/dev/null");
            allocations.Add(devNull);
            DetachedAddOpen(actions, 0, (byte*)devNull, O_RDONLY, 0);
            DetachedAddOpen(actions, 1, (byte*)devNull, O_WRONLY, 0);
            DetachedAddOpen(actions, 2, (byte*)devNull, O_WRONLY, 0);
            posix_spawn_file_actions_adddup2(actions, passFd, passAs);
            // sigset_t is 128 bytes in glibc: empty mask, and every catchable signal back to its default.
            var empty = stackalloc byte[128];
            new Span<byte>(empty, 128).Clear();
            var all = stackalloc byte[128];
            new Span<byte>(all, 128).Fill(0xff);
            DetachedAttrSetSigMask(attr, empty);
            DetachedAttrSetSigDefault(attr, all);
            DetachedAttrSetFlags(attr, (short)(DetachedSetSid | DetachedSetSigMask | DetachedSetSigDefault));
            IntPtr* Array(IReadOnlyList<string> items)
            {
                var p = (IntPtr*)Marshal.AllocCoTaskMem(sizeof(IntPtr) * (items.Count + 1));
                allocations.Add((IntPtr)p);
                for (var i = 0; i < items.Count; i++)
                {
                    p[i] = Marshal.StringToCoTaskMemUTF8(items[i]);
                    allocations.Add(p[i]);
                }
                p[items.Count] = IntPtr.Zero;
                return p;
            }
            var pathPtr = Marshal.StringToCoTaskMemUTF8(path);
            allocations.Add(pathPtr);
            int pid;
            rc = posix_spawn(&pid, (byte*)pathPtr, actions, attr, Array(argv), Array(envp));
            posix_spawn_file_actions_destroy(actions);
            DetachedAttrDestroy(attr);
            if (rc != 0)
                throw new SyscallException("spawn", rc, path);
            return pid;
        }
        finally
        {
            foreach (var p in allocations)
                Marshal.FreeCoTaskMem(p);
        }
    }
}
