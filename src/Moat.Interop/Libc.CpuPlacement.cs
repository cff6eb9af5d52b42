using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// Which CPUs a thread may run on: the sandbox supervisor serves a container confined to one CPU from
/// that CPU (a round trip on one CPU is a plain context switch; across two it wakes a CPU that has
/// halted, dear in a virtual machine; docs/sandbox.md, figures).
/// </summary>
public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint size, byte* mask);

    const int CpuMaskBytes = 128; // glibc's cpu_set_t: 1024 CPUs

    /// <summary>The CPUs thread or process <paramref name="tid"/> may run on, in order; empty on failure.</summary>
    public static int[] AllowedCpus(int tid)
    {
        var mask = stackalloc byte[CpuMaskBytes];
        new Span<byte>(mask, CpuMaskBytes).Clear();
        // glibc's wrapper answers 0 (not the kernel's byte count) and clears the rest of the mask.
        if (sched_getaffinity(tid, CpuMaskBytes, mask) < 0)
            return [];
        var cpus = new List<int>();
        for (var i = 0; i < CpuMaskBytes * 8; i++)
            if ((mask[i / 8] & (1 << (i % 8))) != 0)
                cpus.Add(i);
        return [.. cpus];
    }

    /// <summary>Confines the calling thread to one CPU (threads it starts later inherit it); 0 or -errno.</summary>
    public static int SetThreadAffinityTo(int cpu)
    {
        if (cpu < 0 || cpu >= CpuMaskBytes * 8)
            return -Errors.EINVAL;
        var mask = stackalloc byte[CpuMaskBytes];
        new Span<byte>(mask, CpuMaskBytes).Clear();
        mask[cpu / 8] = (byte)(1 << (cpu % 8));
        return sched_setaffinity(0, CpuMaskBytes, mask) == 0 ? 0 : -Errors.LastErrno;
    }
}
