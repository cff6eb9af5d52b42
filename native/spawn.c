// moat spawn helper: the only code that runs between clone and exec.
//
// The .NET runtime is multi-threaded, so the kernel refuses it unshare(CLONE_NEWUSER) and setns()
// into user or mount namespaces, and a forked copy of it may not run managed code. This file does
// the part that must happen in a single-threaded child: clone3 with the namespace flags (and
// CLONE_INTO_CGROUP), joining namespaces by descriptor, waiting for the parent to write the id maps,
// the time namespace offsets, and finally execveat() of the protected view of the moat binary, which
// then continues as the C# init stage inside the new namespaces. The second fork that a joined or
// unshared pid namespace needs comes after that exec (moat_enter_container below): until its exec,
// a process cloned from the runtime runs the moat binary as the host has it, and a container must
// never see such a process (CVE-2019-5736). The v1 cgroup placement and the cgroup namespace come
// later, in the runtime and the init stage, so that the kernel's wait for the former overlaps the
// init's start-up. Nothing here allocates or takes locks after the clone: only raw system calls, so
// it is safe in the child of a multi-threaded parent.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#define MOAT_OPEN_TREE_CLONE 1
#define MOAT_AT_RECURSIVE 0x8000

// Frames on the sync socket: one tag byte, a 32-bit little-endian length, the payload; the tags
// are in stage-frames.def. The C# side (Moat.Runtime.Protocol.SyncChannel) speaks the same frames.
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EPIPE;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_frame(int fd, char tag, const void *payload, uint32_t len)
{
    char header[5];
    header[0] = tag;
    memcpy(header + 1, &len, 4);
    if (write_all(fd, header, sizeof header) < 0)
        return -1;
    return len ? write_all(fd, payload, len) : 0;
}

// Waits for a payload-less frame with the expected tag.
static int expect_frame(int fd, char tag)
{
    char header[5];
    uint32_t len;
    if (read_all(fd, header, sizeof header) < 0)
        return -1;
    memcpy(&len, header + 1, 4);
    if (header[0] != tag || len != 0) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

static size_t cstrlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

// Reports "<step>: errno <n>" to the parent and exits. Formatting by hand: no stdio after clone.
__attribute__((noreturn)) static void fail(int sync_fd, const char *step)
{
    int err = errno;
    char msg[256];
    size_t n = 0, step_len = cstrlen(step);
    if (step_len > 200)
        step_len = 200;
    memcpy(msg, step, step_len);
    n = step_len;
    memcpy(msg + n, ": errno ", 8);
    n += 8;
    char digits[12];
    int d = 0;
    unsigned v = (unsigned)err;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && d < 12);
    while (d)
        msg[n++] = digits[--d];
    send_frame(sync_fd, MOAT_FRAME_ERROR, msg, (uint32_t)n);
    _exit(MOAT_SPAWN_EXIT_FAILED);
}

static void write_timens_offsets(const struct moat_spawn_request *req)
{
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        fail(req->sync_fd, "open /proc/self/timens_offsets");
    size_t len = cstrlen(req->timens_offsets);
    if (write(fd, req->timens_offsets, len) != (ssize_t)len)
        fail(req->sync_fd, "write /proc/self/timens_offsets");
    close(fd);
}

// Sends the 'N' frame, then one byte that carries the descriptor of our mount namespace.
static int send_mount_namespace(int sync_fd)
{
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        return -1;
    int rc = -1;
    if (send_frame(sync_fd, MOAT_FRAME_MOUNT_NAMESPACE, NULL, 0) == 0) {
        char byte = MOAT_FRAME_MOUNT_NAMESPACE;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
            struct cmsghdr header;
            char buffer[CMSG_SPACE(sizeof(int))];
        } control;
        memset(&control, 0, sizeof control);
        struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer };
        struct cmsghdr *c = CMSG_FIRSTHDR(&message);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &ns, sizeof ns);
        ssize_t n;
        do
            n = sendmsg(sync_fd, &message, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        rc = n == 1 ? 0 : -1;
    }
    close(ns);
    return rc;
}

__attribute__((noreturn)) static void child_main(const struct moat_spawn_request *req)
{
    int sync_fd = req->sync_fd;

    // Die with the runtime that is setting us up: an orphaned half-made container helps no one.
    // The C# init clears this once the container is created. (A runtime that died before this
    // prctl sends no signal; then the end-of-file below ends us at our next read.)
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // clone3 copied every descriptor of the runtime, its end of our socket too: without closing
    // it, a dead runtime would never show as end-of-file. (getppid() cannot tell: in a new pid
    // namespace it is 0 even while the runtime lives.)
    if (req->runtime_fd >= 0)
        close(req->runtime_fd);

    for (int i = 0; i < req->keep_count; i++)
        if (fcntl(req->keep_fds[i], F_SETFD, 0) < 0)
            fail(sync_fd, "clear close-on-exec");

    // Every namespace but the user namespace is joined first, with the runtime's own credentials:
    // one the container's user namespace does not own (a network namespace an engine made) cannot
    // be entered from inside it. What the runtime may not enter from outside (a rootless runtime's
    // namespaces owned by the joined user namespace) is retried once it is in that user namespace.
    int user_join = -1, deferred[MOAT_MAX_JOINS], deferred_count = 0;
    for (int i = 0; i < req->join_count; i++) {
        if (req->join_types[i] == CLONE_NEWUSER) {
            user_join = i;
            continue;
        }
        if (setns(req->join_fds[i], req->join_types[i]) == 0)
            continue;
        if (errno != EPERM)
            fail(sync_fd, req->join_names[i]);
        deferred[deferred_count++] = i;
    }
    if (user_join >= 0 && setns(req->join_fds[user_join], CLONE_NEWUSER) < 0)
        fail(sync_fd, req->join_names[user_join]);
    for (int k = 0; k < deferred_count; k++)
        if (setns(req->join_fds[deferred[k]], req->join_types[deferred[k]]) < 0)
            fail(sync_fd, req->join_names[deferred[k]]);

    if (req->unshare_flags && unshare((int)req->unshare_flags) < 0)
        fail(sync_fd, "unshare namespaces");

    // The parent writes uid_map/gid_map.
    if (send_frame(sync_fd, MOAT_FRAME_READY_FOR_SETUP, NULL, 0) < 0)
        fail(sync_fd, "report to runtime");
    if (expect_frame(sync_fd, MOAT_FRAME_GO) < 0)
        fail(sync_fd, "wait for runtime");

    if (req->become_root) {
        // Root of the (new or joined) user namespace: without it execve() would drop every capability.
        // Raw system calls: glibc's wrappers would signal the parent's threads (its setxid broadcast
        // does not know that clone3 left this process with one thread).
        if (syscall(SYS_setresgid, 0, 0, 0) < 0)
            fail(sync_fd, "setresgid(0) in user namespace");
        if (syscall(SYS_setresuid, 0, 0, 0) < 0)
            fail(sync_fd, "setresuid(0) in user namespace");
    }

    // Now that we are root of our user namespace: namespaces owned by the mapped root.
    if (req->late_unshare_flags && unshare((int)req->late_unshare_flags) < 0)
        fail(sync_fd, "unshare namespaces after setup");

    // The runtime opens bind mount sources in our mount namespace with its own credentials.
    if (req->send_mount_namespace && send_mount_namespace(sync_fd) < 0)
        fail(sync_fd, "send mount namespace to runtime");

    if (req->new_time) {
        // Offsets can be written only before any process lives in the namespace; execve moves us in.
        if (unshare(CLONE_NEWTIME) < 0)
            fail(sync_fd, "unshare time namespace");
        if (req->timens_offsets)
            write_timens_offsets(req);
    }

    syscall(SYS_execveat, req->exec_fd, "", req->argv, req->envp, AT_EMPTY_PATH);
    fail(sync_fd, "exec moat init");
}

int moat_spawn(const struct moat_spawn_request *req, int *pidfd_out)
{
    struct clone_args args;
    memset(&args, 0, sizeof args);
    int pidfd = -1;
    args.flags = req->clone_flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    if (req->cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)req->cgroup_fd;
    }

    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        return -errno;
    if (pid == 0)
        child_main(req);
    *pidfd_out = pidfd;
    return (int)pid;
}

int moat_spawn_userns_holder(int *pidfd_out)
{
    // A process that only holds a new user namespace, so that the runtime can write the id
    // maps of an idmapped mount into it and open /proc/PID/ns/user. It sleeps until killed.
    struct clone_args args;
    memset(&args, 0, sizeof args);
    int pidfd = -1;
    args.flags = CLONE_NEWUSER | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (;;)
            syscall(SYS_pause);
    }
    *pidfd_out = pidfd;
    return (int)pid;
}

struct open_sources_args {
    int mntns_fd;
    struct moat_mount_source *sources;
    int32_t count;
    int error;
};

static int open_sources_child(void *arg)
{
    struct open_sources_args *a = arg;
    // Our own root and cwd (no CLONE_FS), so joining moves only us; then paths resolve in the
    // container's view, with the runtime's credentials.
    if (setns(a->mntns_fd, CLONE_NEWNS) < 0) {
        a->error = errno;
        return 1;
    }
    for (int32_t i = 0; i < a->count; i++) {
        struct moat_mount_source *s = &a->sources[i];
        long fd = s->clone_tree
            ? syscall(SYS_open_tree, AT_FDCWD, s->path, MOAT_OPEN_TREE_CLONE | O_CLOEXEC | (s->recursive ? MOAT_AT_RECURSIVE : 0))
            : open(s->path, O_PATH | O_CLOEXEC);
        s->fd = fd < 0 ? -1 : (int32_t)fd;
        s->error = fd < 0 ? errno : 0;
    }
    return 0;
}

int moat_open_mount_sources(int mntns_fd, struct moat_mount_source *sources, int32_t count)
{
    // The runtime is multi-threaded and shares its root with its threads, so it cannot join a mount
    // namespace itself. A vfork-style child (the way posix_spawn starts) can: it shares our memory,
    // so the results land in sources, and our descriptor table, so the descriptors land in ours.
    // Every signal stays blocked in it: the runtime's handlers must not run on its small stack.
    struct open_sources_args args = { mntns_fd, sources, count, 0 };
    const size_t stack_size = 64 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return -errno;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pid = clone(open_sources_child, (char *)stack + stack_size, CLONE_VM | CLONE_FILES | CLONE_VFORK | SIGCHLD, &args);
    int err = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
    munmap(stack, stack_size);
    if (err)
        return -err;
    return args.error ? -args.error : 0;
}

static int parse_fd(const char *text)
{
    if (!text || !*text)
        return -1;
    int fd = 0;
    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        fd = fd * 10 + (*p - '0');
    return fd;
}

// Runs in the re-executed binary, before the .NET runtime starts any thread, and finishes what the
// spawn helper left to it.
//
// Joining a container's mount namespace must wait until the moat binary is loaded: the binary is
// dynamically linked, and the container's root has no dynamic loader for it. So the spawn helper
// passes the namespace descriptor through the environment and this constructor joins it (setns into
// a mount namespace needs a single-threaded caller). setns also moves root and cwd to the
// namespace's root.
//
// The fork into a joined or unshared pid namespace happens here too, not in the helper: this
// process already runs the protected view of the binary, so its child, the first process of ours
// the container can see, is one as well.
__attribute__((constructor)) static void moat_enter_container(void)
{
    const char *mntns_text = getenv(MOAT_MNTNS_FD_VARIABLE);
    const char *fork_text = getenv(MOAT_FORK_VARIABLE);
    if (!mntns_text && !fork_text)
        return;
    int sync_fd = parse_fd(getenv(MOAT_SYNC_FD_VARIABLE));
    if (mntns_text) {
        int fd = parse_fd(mntns_text);
        if (setns(fd, CLONE_NEWNS) < 0) {
            if (sync_fd >= 0)
                fail(sync_fd, "setns mount namespace");
            _exit(MOAT_SPAWN_EXIT_FAILED);
        }
        close(fd);
        unsetenv(MOAT_MNTNS_FD_VARIABLE);
    }
    if (fork_text) {
        unsetenv(MOAT_FORK_VARIABLE);
        if (sync_fd < 0)
            _exit(MOAT_SPAWN_EXIT_FAILED);
        // glibc's fork, not a raw clone: the child goes on to run the .NET runtime, which needs
        // glibc's idea of its thread id to be the child's own.
        pid_t pid = fork();
        if (pid < 0)
            fail(sync_fd, "fork into pid namespace");
        if (pid > 0) {
            int32_t p = pid;
            send_frame(sync_fd, MOAT_FRAME_PID, &p, sizeof p);
            _exit(0);
        }
        // No parent-death signal here: our parent exits at once. If the runtime dies, the init
        // sees end-of-file on the sync socket and exits.
    }
}
