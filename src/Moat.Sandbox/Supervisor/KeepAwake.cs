using System.Globalization;
using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// The supervisor's side of keeping the container's CPUs awake while its brokered calls come fast
/// (native/keep-awake.c; docs/sandbox.md, "Keeping the CPUs awake"). A brokered open is three wake-ups
/// between the caller's thread and a serving thread, and the kernel puts a woken thread on an idle CPU
/// when it may: where idle CPUs halt (a virtual machine without guest halt polling, as here), each of
/// those goes through the host, and a brokered open took ~60 µs on the quiet machine against ~24 µs
/// with the CPUs kept running. Each answer stamps the shared page (<see cref="Touch"/>); the first time
/// two answers come within <see cref="WindowNanoseconds"/>, the keep-awake process is started: a
/// SCHED_IDLE spinner on each of the container's CPUs, in a cpu cgroup with cpu.idle set
/// (<see cref="KeepAwakeProcess"/>), which spins only while the calls come and parks otherwise.
/// Everything here only makes calls faster: any failure leaves the supervisor as it was.
/// </summary>
public sealed unsafe class KeepAwake
{
    /// <summary>Two answers closer than this make the calls "fast"; the spinners spin this long after the last answer.</summary>
    public const long WindowNanoseconds = 100_000;

    /// <summary>
    /// Containers that may use more CPUs than this are not kept awake: a spinner on every CPU of a large
    /// host would cost more than it saves, and which CPUs a caller and its serving thread meet on there
    /// was not measured.
    /// </summary>
    public const int MaxCpus = 8;

    KeepAwake(void* page, int fd, int[] cpus)
    {
        this.page = page;
        this.fd = fd;
        this.cpus = cpus;
    }

    readonly void* page;
    readonly int fd;
    readonly int[] cpus;
    bool started;

    /// <summary>
    /// For a container that may run on <paramref name="allowedCpus"/>: null when it has one CPU (its calls
    /// are served on that CPU, nothing crosses) or more than <see cref="MaxCpus"/>, or the page cannot be made.
    /// </summary>
    public static KeepAwake? For(int[] allowedCpus)
    {
        if (allowedCpus.Length < 2 || allowedCpus.Length > MaxCpus)
            return null;
        int fd;
        var page = NativeKeepAwake.Create(WindowNanoseconds, &fd);
        return page == null ? null : new KeepAwake(page, fd, allowedCpus);
    }

    /// <summary>
    /// After each answer, on the serving thread that gave it, under the broker's lock (one answer at a
    /// time). Starts the keep-awake process the first time the calls come fast.
    /// </summary>
    public void Touch()
    {
        if (NativeKeepAwake.Touch(page) != 0 && !started)
            Start();
    }

    void Start()
    {
        started = true;
        // The serving thread may still act as its last caller: the child would inherit those groups.
        ThreadIdentity.BeRoot();
        var executable = Environment.ProcessPath;
        if (executable is null)
            return;
        int pid;
        try
        {
            using var devNull = Open("/dev/null", O_RDWR);
            // The shared page's memfd is the child's stdin.
            pid = Spawn(executable,
                [Path.GetFileName(executable), KeepAwakeProcess.Verb, "--supervisor", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                 "--cpus", string.Join(',', cpus)],
                ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], fd, devNull.Fd, devNull.Fd, defaultSignals: true);
        }
        catch (SyscallException)
        {
            return;
        }
        // Reaped when it ends (it ends with this process, or at once when the host cannot keep CPUs awake).
        new Thread(() => Reap(pid)) { IsBackground = true, Name = "keep-awake reaper" }.Start();
    }
}
