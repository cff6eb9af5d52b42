/*
 * moat-init: the container's pid 1 for `moat run --init` (what tini or catatonit are to docker and
 * podman, written for Moat). It starts the command as its only direct child in a process group of its
 * own, forwards the signals it gets to that group, reaps every process that ends up as its child
 * (orphans are re-parented to pid 1, or to us as a subreaper when we are not pid 1) and, when the
 * command exits, exits with the command's status: its exit code, or 128 + the signal that killed it.
 *
 * Why pid 1 needs this: the kernel gives pid 1 no default signal actions (a SIGTERM that a shell or a
 * server does not handle is simply ignored), and zombies whose parent died are left to pid 1 to reap.
 *
 * Usage: moat-init [--] COMMAND [ARG...]. Built static (no libc in the image is needed): see the Makefile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what)
{
    fprintf(stderr, "moat-init: %s: %s\n", what, strerror(errno));
    exit(125);
}

/* Signals the kernel raises for the faulting thread itself: never blocked or forwarded. */
static const int synchronous[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS };

/* Job-control stops from the terminal must not stop pid 1 itself: ignored here, restored in the child. */
static const int job_control[] = { SIGTTIN, SIGTTOU };

static pid_t start(char **argv, const sigset_t *original)
{
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid > 0)
        return pid;

    /* The child: its own process group (so a signal to the group reaches the command's helpers too),
     * and the terminal's foreground group when stdin is one, so ^C and job control reach it. */
    if (setpgid(0, 0) < 0)
        fail("setpgid");
    if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY)
        fail("tcsetpgrp");
    for (size_t i = 0; i < sizeof job_control / sizeof *job_control; i++)
        signal(job_control[i], SIG_DFL);
    if (sigprocmask(SIG_SETMASK, original, NULL) < 0)
        fail("sigprocmask");
    execvp(argv[0], argv);
    int err = errno;
    fprintf(stderr, "moat-init: cannot run %s: %s\n", argv[0], strerror(err));
    /* The shell's convention, which docker follows: 127 not found, 126 found but not runnable. */
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* Reaps every child that has exited; returns 1 once the command itself has (its status in *status). */
static int reap(pid_t command, int *status)
{
    int done = 0;
    for (;;)
    {
        int wstatus;
        pid_t pid = waitpid(-1, &wstatus, WNOHANG);
        if (pid == 0)
            return done;
        if (pid < 0)
        {
            if (errno == EINTR)
                continue;
            if (errno == ECHILD)
                return done;
            fail("waitpid");
        }
        if (pid == command)
        {
            *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 125;
            done = 1;
        }
    }
}

int main(int argc, char **argv)
{
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc)
    {
        fprintf(stderr, "usage: moat-init [--] COMMAND [ARG...]\n");
        return 125;
    }

    /* Every asynchronous signal is blocked and taken with sigtimedwait: no handler runs between our
     * system calls, and none is lost while we reap. */
    sigset_t all, original;
    sigfillset(&all);
    for (size_t i = 0; i < sizeof synchronous / sizeof *synchronous; i++)
        sigdelset(&all, synchronous[i]);
    if (sigprocmask(SIG_SETMASK, &all, &original) < 0)
        fail("sigprocmask");
    for (size_t i = 0; i < sizeof job_control / sizeof *job_control; i++)
        signal(job_control[i], SIG_IGN);

    /* Not pid 1 (a runtime that keeps its own init, or a test): orphans come to us all the same. */
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        fail("prctl(PR_SET_CHILD_SUBREAPER)");

    pid_t command = start(&argv[first], &original);
    int status = 0;
    for (;;)
    {
        siginfo_t info;
        /* The timeout is a safety net: a SIGCHLD merged with another is still noticed by the reap below. */
        struct timespec timeout = { .tv_sec = 1, .tv_nsec = 0 };
        int sig = sigtimedwait(&all, &info, &timeout);
        if (sig < 0 && errno != EAGAIN && errno != EINTR)
            fail("sigtimedwait");
        if (sig > 0 && sig != SIGCHLD)
        {
            /* To the command's process group; if it has already left its group, to the command itself. */
            if (kill(-command, sig) < 0 && errno == ESRCH)
                kill(command, sig);
        }
        if (reap(command, &status))
        {
            /* Zombies left by the command's last children, if any, go with us: reap what is there now. */
            int ignored;
            reap(-1, &ignored);
            return status;
        }
    }
}
