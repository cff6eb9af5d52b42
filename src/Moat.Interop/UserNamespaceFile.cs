namespace Moat.Interop;

/// <summary>
/// A user namespace that carries id maps and nothing else, held by a descriptor: what mount_setattr
/// needs to idmap a mount. A process made by native/spawn.c's holder owns it for the moment it takes
/// to write the maps and open /proc/PID/ns/user; then the process is killed and the descriptor keeps
/// the namespace alive. Only binaries that link native/spawn.c (moat-runtime, moat) can call it.
/// </summary>
public static class UserNamespaceFile
{
    /// <summary>
    /// Opens a new user namespace with the given maps (uid_map/gid_map text: "inside outside count" lines).
    /// Throws <see cref="SyscallException"/> naming the step that failed.
    /// </summary>
    public static unsafe FileDescriptor Create(string uidMap, string gidMap)
    {
        int rawPidfd;
        var pid = NativeSpawn.SpawnUsernsHolder(&rawPidfd);
        if (pid < 0)
            throw new SyscallException("clone3 user namespace", -pid, "an id-mapping namespace");
        using var pidfd = new FileDescriptor(rawPidfd);
        try
        {
            Libc.WriteFile($"/proc/{pid}/uid_map", uidMap);
            Libc.WriteFile($"/proc/{pid}/gid_map", gidMap);
            return Libc.Open($"/proc/{pid}/ns/user", Libc.O_RDONLY);
        }
        finally
        {
            Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
            Libc.WaitExitCode(pidfd);
        }
    }
}
