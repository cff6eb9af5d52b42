// moat (the engine) without root: the user namespace it works in.
//
// A user cannot mount overlayfs or give files other owners on the host, but can inside a user
// namespace of its own made from its subordinate ranges. Podman's design: one long-lived process
// (the "pause" holder) keeps that user namespace and a mount namespace owned by it alive, and every
// engine command joins both. The kernel lets only a single-threaded process join a user or mount
// namespace and the .NET runtime starts threads in main(), so the join is a constructor that runs
// before main (podman joins in a C constructor before Go starts, for the same reason). The managed
// side (src/Moat.Cli/Rootless) makes the holder, writes its id maps, opens its namespaces and
// re-executes moat with their descriptors in _MOAT_ROOTLESS_JOIN; this file does the two steps that
// must be native: the join, and the holder itself (a clone that never returns into managed code).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

// -1: not asked to join; 0: joined; > 0: the errno of the step that failed (moat_rootless_join_step).
static int join_status = -1;
static const char *join_step = "";

static int parse_fd(const char **p)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (errno != 0 || end == *p || v < 0 || v > INT_MAX)
        return -1;
    *p = end;
    return (int)v;
}

__attribute__((constructor(101))) static void moat_rootless_join(void)
{
    const char *spec = getenv("_MOAT_ROOTLESS_JOIN");
    if (spec == NULL)
        return;
    // Only a user's moat joins: root (or a setuid start) never acts on a variable someone else set.
    if (geteuid() == 0 || getuid() != geteuid()) {
        unsetenv("_MOAT_ROOTLESS_JOIN");
        return;
    }
    const char *p = spec;
    int userns = parse_fd(&p);
    int mntns = (*p == ',') ? (p++, parse_fd(&p)) : -1;
    unsetenv("_MOAT_ROOTLESS_JOIN");
    if (userns < 0 || mntns < 0) {
        join_status = EINVAL;
        join_step = "parse _MOAT_ROOTLESS_JOIN";
        return;
    }
    // Joining the mount namespace moves us to its root: come back to where the user was.
    char cwd[PATH_MAX];
    int have_cwd = getcwd(cwd, sizeof cwd) != NULL;
    if (setns(userns, CLONE_NEWUSER) < 0) {
        join_status = errno;
        join_step = "setns (user namespace)";
    } else if (setns(mntns, CLONE_NEWNS) < 0) {
        join_status = errno;
        join_step = "setns (mount namespace)";
    } else {
        join_status = 0;
        if ((!have_cwd || chdir(cwd) < 0) && chdir("/") < 0)
            join_step = "chdir";
    }
    close(userns);
    close(mntns);
}

int moat_rootless_join_status(void)
{
    return join_status;
}

const char *moat_rootless_join_step(void)
{
    return join_step;
}

// The holder: a child in a new user namespace and a new mount namespace owned by it. It detaches
// (own session, /dev/null for stdio, no other descriptors), drops every handler the runtime had
// installed (they point into managed code it must never run), and sleeps until killed. Its parent
// writes its id maps. Returns its pid, or -errno.
int moat_rootless_spawn_holder(void)
{
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWUSER | CLONE_NEWNS;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        return -errno;
    if (pid > 0)
        return (int)pid;
    for (int sig = 1; sig < _NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    syscall(SYS_close_range, 3U, ~0U, 0U);
    if (chdir("/") < 0)
        _exit(1);
    prctl(PR_SET_NAME, "moat-userns", 0, 0, 0);
    for (;;)
        pause();
}
