using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>posix_spawn(3): starting helper programs (hooks) with an exact argv and environment.</summary>
public static unsafe partial class Libc
{
    // Opaque glibc types; 512 bytes covers both (80 and 336 bytes on x86_64 and aarch64).
    const int SpawnStructSize = 512;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn_file_actions_init(byte* actions);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn_file_actions_destroy(byte* actions);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn_file_actions_adddup2(byte* actions, int fd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawnattr_init(byte* attr);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawnattr_destroy(byte* attr);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawnattr_setflags(byte* attr, short flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawnattr_setsigdefault(byte* attr, byte* signals);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawnattr_setsigmask(byte* attr, byte* signals);

    const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn(int* pid, byte* path, byte* actions, byte* attr, IntPtr* argv, IntPtr* envp);

    /// <summary>
    /// Starts path with argv (argv[0] as given) and exactly envp; stdin, stdout and stderr are the
    /// given descriptors. Returns the pid. posix_spawn returns the error number instead of setting errno.
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, int stdin, int stdout, int stderr) =>
        Spawn(path, argv, envp, stdin, stdout, stderr, defaultSignals: false);

    /// <summary>
    /// As above; with <paramref name="defaultSignals"/> the child starts with every signal at its
    /// default action and none blocked, whatever this process ignores or blocks (a process that ignores
    /// SIGPIPE or SIGHUP would otherwise hand that on to everything it starts).
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, int stdin, int stdout, int stderr, bool defaultSignals)
    {
        var actions = stackalloc byte[SpawnStructSize];
        var attributes = stackalloc byte[SpawnStructSize];
        // sigset_t is 128 bytes in glibc: all ones to reset every signal, all zeros for an empty mask.
        var everySignal = stackalloc byte[128];
        var noSignal = stackalloc byte[128];
        new Span<byte>(everySignal, 128).Fill(0xFF);
        new Span<byte>(noSignal, 128).Clear();
        if (defaultSignals)
        {
            var init = posix_spawnattr_init(attributes);
            if (init != 0)
                throw new SyscallException("posix_spawnattr_init", init);
            posix_spawnattr_setsigdefault(attributes, everySignal);
            posix_spawnattr_setsigmask(attributes, noSignal);
            posix_spawnattr_setflags(attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        }
        var allocations = new List<IntPtr>();
        try
        {
            var rc = posix_spawn_file_actions_init(actions);
            if (rc != 0)
                throw new SyscallException("posix_spawn_file_actions_init", rc);
            posix_spawn_file_actions_adddup2(actions, stdin, 0);
            posix_spawn_file_actions_adddup2(actions, stdout, 1);
            posix_spawn_file_actions_adddup2(actions, stderr, 2);
            var pathPtr = Marshal.StringToCoTaskMemUTF8(path);
            allocations.Add(pathPtr);
            int pid;
            rc = posix_spawn(&pid, (byte*)pathPtr, actions, defaultSignals ? attributes : null, StringArray(argv, allocations), StringArray(envp, allocations));
            posix_spawn_file_actions_destroy(actions);
            if (defaultSignals)
                posix_spawnattr_destroy(attributes);
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

    /// <summary>A NULL-terminated array of UTF-8 strings for argv/envp; every block it takes goes into <paramref name="allocations"/> for the caller to free.</summary>
    static IntPtr* StringArray(IReadOnlyList<string> items, List<IntPtr> allocations)
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
}

/// <summary>posix_spawn with a descriptor map and a new session: long-lived helpers (the vm tier's shim, QEMU).</summary>
public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn_file_actions_addopen(byte* actions, int fd, byte* path, int flags, uint mode);

    const short POSIX_SPAWN_SETSID = 0x80;

    /// <summary>
    /// Starts <paramref name="path"/> with exactly <paramref name="envp"/>; each (From, To) pair of
    /// <paramref name="descriptors"/> becomes descriptor To in the child (every other descriptor this
    /// process marked close-on-exec is gone), and with <paramref name="newSession"/> the child leads a
    /// session of its own, so a terminal's or a caller's process-group signals do not reach it.
    /// Signals start at their defaults. Returns the pid.
    /// </summary>
    public static int SpawnDetached(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, IReadOnlyList<(int From, int To)> descriptors, bool newSession)
    {
        var actions = stackalloc byte[SpawnStructSize];
        var attributes = stackalloc byte[SpawnStructSize];
        var everySignal = stackalloc byte[128];
        var noSignal = stackalloc byte[128];
        new Span<byte>(everySignal, 128).Fill(0xFF);
        new Span<byte>(noSignal, 128).Clear();
        var init = posix_spawnattr_init(attributes);
        if (init != 0)
            throw new SyscallException("posix_spawnattr_init", init);
        posix_spawnattr_setsigdefault(attributes, everySignal);
        posix_spawnattr_setsigmask(attributes, noSignal);
        posix_spawnattr_setflags(attributes, (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (newSession ? POSIX_SPAWN_SETSID : 0)));
        var allocations = new List<IntPtr>();
        try
        {
            var rc = posix_spawn_file_actions_init(actions);
            if (rc != 0)
                throw new SyscallException("posix_spawn_file_actions_init", rc);
            // dup2 onto itself would keep close-on-exec: go through a descriptor no pair uses.
            foreach (var (from, to) in descriptors)
                posix_spawn_file_actions_adddup2(actions, from, to);
            var pathPtr = Marshal.StringToCoTaskMemUTF8(path);
            allocations.Add(pathPtr);
            int pid;
            rc = posix_spawn(&pid, (byte*)pathPtr, actions, attributes, StringArray(argv, allocations), StringArray(envp, allocations));
            posix_spawn_file_actions_destroy(actions);
            posix_spawnattr_destroy(attributes);
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
