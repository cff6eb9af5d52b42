using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// finit_module(2) and reboot(2): the calls of a machine's init. The vm tier's guest agent is PID 1
/// of its guest: it loads the few kernel modules it needs itself (there is no modprobe in the guest)
/// and ends the machine when the host asks.
/// </summary>
public static unsafe partial class Libc
{
    /// <summary>Loads the module in the open file with its parameters ("a=1 b=2"); one already loaded (EEXIST) is fine.</summary>
    public static void LoadModule(FileDescriptor module, string parameters, string what)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(parameters + "\0");
        long rc;
        fixed (byte* p = bytes)
            rc = syscall(SyscallNumbers.FinitModule, module.Fd, (long)p, 0, 0, 0);
        if (rc < 0 && Errors.LastErrno != Errors.EEXIST)
            throw new SyscallException("finit_module", Errors.LastErrno, what);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int reboot(int command);

    const int RB_AUTOBOOT = 0x01234567;

    /// <summary>
    /// Ends the machine with a reset, which QEMU's -no-reboot turns into its exit (a microvm without
    /// ACPI cannot power off: a power-off request would only halt it). Returns only on failure.
    /// </summary>
    public static void EndMachine()
    {
        sync();
        reboot(RB_AUTOBOOT);
    }

    [LibraryImport("libc")]
    private static partial void sync();
}
