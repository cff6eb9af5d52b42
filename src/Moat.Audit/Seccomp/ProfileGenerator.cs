using Moat.Oci;

namespace Moat.Audit.Seccomp;

/// <summary>
/// A least-privilege profile from a recording: the calls made are allowed, everything else fails with
/// EPERM (Docker's default action). Where the OCI format can say more than a name, it does: clone only
/// without namespace flags unless the program created namespaces, socket only for the address
/// families it opened. clone3 fails with ENOSYS (see <see cref="SyscallRecorder"/>).
/// </summary>
public static class ProfileGenerator
{
    /// <summary>
    /// CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET, Docker's mask. CLONE_NEWTIME (0x80)
    /// is not in it: in clone's flags that bit belongs to the exit signal, and only clone3 and unshare
    /// can make a time namespace.
    /// </summary>
    public const ulong NamespaceFlags = 0x7E020000;
    const uint EPERM = 1, ENOSYS = 38;

    public static LinuxSeccomp Generate(SyscallRecording recording, IReadOnlyList<string>? architectures)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var allowed = new SortedSet<string>(recording.Names, StringComparer.Ordinal);
        allowed.UnionWith(RecordingProfile.NeverTrapped);
        // Every process ends with one of these; a recording cut short by a signal might lack them.
        allowed.UnionWith(["exit", "exit_group", "rt_sigreturn"]);
        allowed.ExceptWith(["clone", "clone3", "socket"]);

        var syscalls = new List<LinuxSyscall> { new() { Names = [.. allowed], Action = SeccompNames.ActAllow } };
        if (recording.Names.Contains("clone"))
        {
            var makesNamespaces = recording.CloneFlags.Any(f => (f & NamespaceFlags) != 0);
            syscalls.Add(new LinuxSyscall
            {
                Names = ["clone"],
                Action = SeccompNames.ActAllow,
                Args = makesNamespaces ? null : [new LinuxSeccompArg { Index = 0, Value = NamespaceFlags, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
            });
        }
        syscalls.Add(new LinuxSyscall { Names = ["clone3"], Action = SeccompNames.ActErrno, ErrnoRet = ENOSYS });
        foreach (var family in recording.SocketFamilies)
            syscalls.Add(new LinuxSyscall
            {
                Names = ["socket"],
                Action = SeccompNames.ActAllow,
                Args = [new LinuxSeccompArg { Index = 0, Value = (ulong)family, Op = "SCMP_CMP_EQ" }],
            });
        return new LinuxSeccomp
        {
            DefaultAction = SeccompNames.ActErrno,
            DefaultErrnoRet = EPERM,
            Architectures = architectures is null ? null : [.. architectures],
            Syscalls = syscalls,
        };
    }
}
