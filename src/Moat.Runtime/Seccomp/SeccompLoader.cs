using Moat.Interop;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Loads a program compiled by <see cref="SeccompCompiler"/> in the init stage: a raw seccomp(2)
/// call, no libseccomp (the host's libraries are out of reach after pivot_root). The filter
/// applies to the calling thread (every thread with SECCOMP_FILTER_FLAG_TSYNC) and survives
/// execve, so load it on the thread that then execs the container's process, as late as possible:
/// after no_new_privs (or while the thread still has CAP_SYS_ADMIN), just before execve.
/// </summary>
public static class SeccompLoader
{
    /// <summary>
    /// Installs <paramref name="program"/> (raw struct sock_filter[]) with SECCOMP_FILTER_FLAG_*
    /// <paramref name="flags"/>. Returns the user-notification listener descriptor when
    /// NEW_LISTENER is among the flags (the caller owns it), otherwise null.
    /// </summary>
    public static int? Load(ReadOnlySpan<byte> program, uint flags)
    {
        if (program.IsEmpty || program.Length % BpfInstruction.Size != 0)
            throw new RuntimeException($"seccomp: a filter is a non-empty multiple of {BpfInstruction.Size} bytes, got {program.Length}");
        if (program.Length / BpfInstruction.Size > Libc.BPF_MAXINSNS)
            throw new RuntimeException($"seccomp: the filter has {program.Length / BpfInstruction.Size} instructions, more than the kernel's limit of {Libc.BPF_MAXINSNS}");
        int result;
        try
        {
            result = Libc.SeccompSetModeFilter(program, flags);
        }
        catch (SyscallException e) when (e.Errno == Errors.EACCES)
        {
            throw new RuntimeException("seccomp: loading a filter needs no_new_privs or CAP_SYS_ADMIN in the container's user namespace", e);
        }
        catch (SyscallException e) when (e.Errno == Errors.EINVAL)
        {
            throw new RuntimeException($"seccomp: the kernel refused the filter or the flags {SeccompCompiler.FormatFlags(flags)} ({e.Message})", e);
        }
        if ((flags & Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0)
            return result;
        // With TSYNC (and no TSYNC_ESRCH) a positive result is the thread that could not be synchronized.
        if ((flags & Libc.SECCOMP_FILTER_FLAG_TSYNC) != 0 && result > 0)
            throw new RuntimeException($"seccomp: SECCOMP_FILTER_FLAG_TSYNC could not apply the filter to thread {result} (it has a different seccomp filter)");
        return null;
    }

    /// <summary>Loads a compiled filter with its own flags.</summary>
    public static int? Load(CompiledSeccompFilter filter) => Load(filter.Program, filter.Flags);
}
