using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// The request for native/spawn.c's moat_spawn(); mirrors struct moat_spawn_request (SpawnLayoutTests
/// compiles spawn.h and checks every offset). The frames the helper then speaks on the sync socket
/// are not bound here: no call in this library reads or writes them (Moat.Runtime.Protocol).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SpawnRequest
{
    /// <summary>spawn.h MOAT_MAX_JOINS.</summary>
    public const int MaxJoins = 8;
    public ulong CloneFlags;
    public ulong UnshareFlags;
    public ulong LateUnshareFlags;
    public fixed int JoinFds[MaxJoins];
    public fixed int JoinTypes[MaxJoins];
    public fixed long JoinNames[MaxJoins];
    public int JoinCount;
    public int SyncFd;
    public int RuntimeFd;
    public int ExecFd;
    public int CgroupFd;
    public int BecomeRoot;
    public int NewTime;
    public int SendMountNamespace;
    public int KeepCount;
    public int* KeepFds;
    public byte* TimensOffsets;
    public byte** Argv;
    public byte** Envp;
}

/// <summary>A bind mount source for moat_open_mount_sources(); mirrors struct moat_mount_source.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MountSourceRequest
{
    public byte* Path;
    public int CloneTree;
    public int Recursive;
    public int Fd;
    public int Error;
}

public static unsafe partial class NativeSpawn
{
    [LibraryImport("moatspawn", EntryPoint = "moat_spawn")]
    public static partial int Spawn(SpawnRequest* request, int* pidfd);

    /// <summary>
    /// Opens each source with this process's credentials from inside a mount namespace (a vfork-style
    /// child joins it); per-source results in Fd/Error. Returns 0, or -errno when the namespace could not be entered.
    /// </summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_open_mount_sources")]
    public static partial int OpenMountSources(int mountNamespaceFd, MountSourceRequest* sources, int count);

    [LibraryImport("moatspawn", EntryPoint = "moat_spawn_userns_holder")]
    public static partial int SpawnUsernsHolder(int* pidfd);

    /// <summary>
    /// native/detached-write.c: writes <paramref name="data"/> into <paramref name="path"/> from a native
    /// thread of its own and returns at once (0, or the errno of a thread that could not be started);
    /// the write's own result is dropped. Only moat-runtime links the helper: elsewhere this throws
    /// DllNotFoundException.
    /// </summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_write_detached", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int WriteDetached(string path, string data);

    /// <summary>
    /// native/detached-write.c: writes <paramref name="data"/> into <paramref name="path"/> from a native thread
    /// of its own at once and then every <paramref name="intervalMicroseconds"/>, until <see cref="StopWriting"/>
    /// or <paramref name="limitMilliseconds"/>; returns at once (0, or the errno of a thread that could not start).
    /// </summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_keep_writing", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int KeepWriting(string path, string data, nint intervalMicroseconds, nint limitMilliseconds);

    /// <summary>Ends the <see cref="KeepWriting"/> thread after its current write.</summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_stop_writing")]
    public static partial void StopWriting();
}
