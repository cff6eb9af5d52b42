using Moat.Oci;

namespace Moat.Sandbox.Profile;

/// <summary>
/// The sandbox's seccomp profile. Three kinds of calls:
/// <list type="bullet">
/// <item>allowed: the calls a program needs to compute, manage memory, threads and signals, and use the
/// descriptors it already holds, grouped below; about 190 names against Docker's ~370;</item>
/// <item>brokered (SCMP_ACT_NOTIFY): the calls that reach something by name or address; the supervisor
/// decides and performs them;</item>
/// <item>refused and logged (SCMP_ACT_NOTIFY, always answered EPERM): the calls that widen the kernel's
/// surface (mounts, ptrace, bpf, keys, namespaces, io_uring, userfaultfd, perf, modules, kexec...), so
/// every attempt lands in the refusal log. Everything else: EPERM from the filter itself.</item>
/// </list>
/// </summary>
public static class SandboxSyscalls
{
    /// <summary>The allowed calls by group (docs/sandbox.md explains each).</summary>
    public static readonly (string Group, string[] Names)[] Allowed =
    [
        ("process and threads", ["exit", "exit_group", "fork", "vfork", "wait4", "waitid", "set_tid_address", "set_robust_list",
            "get_robust_list", "futex", "futex_waitv", "rseq", "gettid", "getpid", "getppid", "getpgid", "getpgrp", "setpgid",
            "getsid", "setsid", "prctl", "arch_prctl", "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
            "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr",
            "getpriority", "setpriority", "getcpu", "nanosleep", "clock_nanosleep", "restart_syscall", "pause", "seccomp",
            "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"]),
        ("memory", ["brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore", "mlock", "mlock2", "munlock",
            "membarrier", "get_mempolicy", "pkey_alloc", "pkey_free", "pkey_mprotect", "memfd_create"]),
        ("signals and timers", ["rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
            "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "kill", "tgkill", "tkill", "alarm",
            "setitimer", "getitimer", "signalfd", "signalfd4", "pidfd_open", "pidfd_send_signal", "timer_create",
            "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime",
            "timerfd_gettime"]),
        ("descriptors already held", ["read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
            "pwritev2", "close", "close_range", "dup", "dup2", "dup3", "fcntl", "ioctl", "lseek", "pipe", "pipe2", "poll", "ppoll",
            "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
            "eventfd", "eventfd2", "sendfile", "splice", "tee", "vmsplice", "copy_file_range", "fsync", "fdatasync", "sync",
            "syncfs", "sync_file_range", "fallocate", "ftruncate", "flock", "fadvise64", "readahead", "fchmod", "fchown",
            "fgetxattr", "flistxattr", "getdents", "getdents64", "inotify_init", "inotify_init1", "inotify_add_watch",
            "inotify_rm_watch"]),
        ("looking at names (no change, no open)", ["fstat", "stat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
            "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd", "chdir", "fchdir", "getxattr", "lgetxattr",
            "listxattr", "llistxattr", "utimensat", "utime", "utimes", "futimesat"]),
        ("time and system facts", ["clock_gettime", "clock_getres", "gettimeofday", "time", "times", "getrusage", "sysinfo",
            "uname", "getrandom", "getrlimit", "setrlimit", "prlimit64", "ioprio_get"]),
        ("identity (the kernel checks the user namespace's rights)", ["getuid", "geteuid", "getgid", "getegid", "getresuid",
            "getresgid", "getgroups", "capget"]),
        ("sockets already made, System V IPC in the container's own namespace", ["socketpair", "accept", "accept4", "listen",
            "shutdown", "getsockname", "getpeername", "getsockopt", "setsockopt", "recvfrom", "recvmsg", "recvmmsg",
            "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd",
            "msgrcv", "msgctl"]),
    ];

    /// <summary>Calls the supervisor decides and performs: every one reaches something by a name or an address.</summary>
    public static readonly string[] Brokered =
    [
        "open", "openat", "openat2", "creat", "execve", "execveat",
        "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat",
        "symlink", "symlinkat", "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat", "truncate", "mknod", "mknodat",
        "connect", "bind", "sendmsg", "sendmmsg",
    ];

    /// <summary>
    /// Calls that change a thread's credentials: notified only so that the supervisor forgets what it
    /// cached of the caller (CallerCache), then continued; the kernel checks them against the user namespace.
    /// </summary>
    public static readonly string[] CredentialChanging =
    [
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capset", "umask",
    ];

    /// <summary>Calls that are always refused, through the supervisor so that each attempt is logged.</summary>
    public static readonly string[] RefusedAndLogged =
    [
        "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
        "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "bpf", "keyctl", "add_key",
        "request_key", "unshare", "setns", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
        "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
        "swapon", "swapoff", "quotactl", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog",
        "name_to_handle_at", "open_by_handle_at", "iopl", "ioperm", "vhangup", "sethostname", "setdomainname",
        "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "fanotify_init",
        "lookup_dcookie", "personality", "mbind", "set_mempolicy", "move_pages", "migrate_pages",
    ];

    const string Allow = "SCMP_ACT_ALLOW", Notify = "SCMP_ACT_NOTIFY", Errno = "SCMP_ACT_ERRNO";
    const uint EPERM = 1, ENOSYS = 38;

    /// <summary>Namespace flags a clone may not carry (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME).</summary>
    const ulong CloneNamespaceFlags = 0x7E020080;

    /// <summary>
    /// The profile. <paramref name="listenerPath"/> is runtime-spec's listener path (required with
    /// SCMP_ACT_NOTIFY); the sandbox tier hands the init a connected socket instead, so it only names the
    /// supervisor. <paramref name="waitKillable"/>: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19),
    /// so a signal does not abandon a call the supervisor already performs.
    /// </summary>
    public static LinuxSeccomp Profile(string listenerPath, bool waitKillable)
    {
        var rules = new List<LinuxSyscall>();
        rules.Add(new LinuxSyscall { Names = Allowed.SelectMany(g => g.Names).ToList(), Action = Allow });
        // clone: only without namespace flags (its flags are a value: checked by the filter itself).
        rules.Add(new LinuxSyscall
        {
            Names = ["clone"],
            Action = Allow,
            Args = [new LinuxSeccompArg { Index = 0, Value = CloneNamespaceFlags, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
        });
        // clone3's flags sit in memory, out of the filter's reach: ENOSYS makes the C library use clone.
        rules.Add(new LinuxSyscall { Names = ["clone3"], Action = Errno, ErrnoRet = ENOSYS });
        // socket: the families a program needs (unix, IPv4, IPv6, netlink for its own addresses); a value, checked here.
        foreach (var family in new ulong[] { 1, 2, 10, 16 })
            rules.Add(new LinuxSyscall { Names = ["socket"], Action = Allow, Args = [new LinuxSeccompArg { Index = 0, Value = family, Op = "SCMP_CMP_EQ" }] });
        // sendto without an address is a write on a connected socket; with one, the supervisor checks the address.
        rules.Add(new LinuxSyscall { Names = ["sendto"], Action = Allow, Args = [new LinuxSeccompArg { Index = 4, Value = 0, Op = "SCMP_CMP_EQ" }] });
        rules.Add(new LinuxSyscall { Names = ["sendto"], Action = Notify, Args = [new LinuxSeccompArg { Index = 4, Value = 0, Op = "SCMP_CMP_NE" }] });
        rules.Add(new LinuxSyscall { Names = [.. Brokered], Action = Notify });
        rules.Add(new LinuxSyscall { Names = [.. RefusedAndLogged], Action = Notify });
        rules.Add(new LinuxSyscall { Names = [.. CredentialChanging], Action = Notify });
        return new LinuxSeccomp
        {
            DefaultAction = Errno,
            DefaultErrnoRet = EPERM,
            ListenerPath = listenerPath,
            Flags = waitKillable ? ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] : null,
            Syscalls = rules,
        };
    }

    /// <summary>How many distinct calls the workload reaches without the supervisor.</summary>
    public static int AllowedCount => Allowed.Sum(g => g.Names.Length) + 3; // clone, socket, sendto (conditional)
}
