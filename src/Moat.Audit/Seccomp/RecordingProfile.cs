using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Profiles;

namespace Moat.Audit.Seccomp;

/// <summary>
/// The filter a recorded run gets: every system call libseccomp knows for this machine is sent to the
/// recorder (SCMP_ACT_NOTIFY), except the few the runtime's init needs to hand the notification
/// descriptor over after loading the filter (they would wait for a supervisor that has not got it
/// yet). Those are allowed in every profile <see cref="ProfileGenerator"/> writes.
/// </summary>
public static class RecordingProfile
{
    /// <summary>
    /// Never trapped: write (runtime-spec forbids notifying it, the runtime reports errors with it),
    /// sendmsg and close (the hand-over itself). Every program makes them anyway.
    /// </summary>
    public static readonly IReadOnlyList<string> NeverTrapped = ["close", "sendmsg", "write"];

    public static LinuxSeccomp For(string listenerPath)
    {
        var architectures = DefaultSeccompProfile.For(new HashSet<string>(StringComparer.Ordinal)).Architectures;
        var names = new SortedSet<string>(NativeNames(), StringComparer.Ordinal);
        names.ExceptWith(NeverTrapped);
        return new LinuxSeccomp
        {
            DefaultAction = SeccompNames.ActAllow,
            Architectures = architectures,
            ListenerPath = listenerPath,
            Syscalls =
            [
                new LinuxSyscall { Names = [.. NeverTrapped], Action = SeccompNames.ActAllow },
                new LinuxSyscall { Names = [.. names], Action = SeccompNames.ActNotify },
            ],
        };
    }

    /// <summary>Every system call name libseccomp knows for this machine's native architecture.</summary>
    public static IReadOnlyList<string> NativeNames()
    {
        if (!Libseccomp.IsAvailable)
            throw new AuditException("libseccomp (libseccomp.so.2) is missing: apt install libseccomp2");
        var native = Libseccomp.seccomp_arch_native();
        var names = new SortedSet<string>(StringComparer.Ordinal);
        // Numbers above ~1000 are architecture-private ranges libseccomp does not name.
        for (var number = 0; number < 1024; number++)
            if (Libseccomp.SyscallName(native, number) is { } name && !name.StartsWith("__", StringComparison.Ordinal))
                names.Add(name);
        return [.. names];
    }
}
