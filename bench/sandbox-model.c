// A C model of the sandbox supervisor's serving loop for brokered opens, shared by bench/sandbox-floor.sh
// and bench/sandbox-spin.sh (issue 20). A child loops open+close of /etc/passwd under a filter that
// notifies openat; this process answers each call with RECV, its own openat, ADDFD with SEND, close
// (synchronous wake-up flag on), in one of these modes:
//   nice       SCHED_OTHER at nice -10 (the sandbox's serving threads before 2026-12-03)
//   batch      SCHED_BATCH nice 0 (as they are now): back into the blocking RECV after each answer
//   spinN      batch, and after each answer poll the listener without sleeping for up to N µs
//   idle       the serving thread SCHED_IDLE
//   adapt      idle, backing off to SCHED_BATCH while the thread waits for a CPU (its schedstat)
// Usage: model N MODE GAP_US (GAP_US: the caller's pause between opens).
// Prints "ns-per-open caller-cpu-per-open supervisor-cpu-per-open spin-hits spin-misses" (ns).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static double cpu(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e9 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e3; }
int main(int argc, char **argv) {
    long n = atol(argv[1]); const char *mode = argv[2]; long gap = atol(argv[3]);
    long spin = strncmp(mode, "spin", 4) == 0 ? atol(mode + 4) * 1000 : 0;
    int idle = strcmp(mode, "idle") == 0 || strcmp(mode, "adapt") == 0, adapt = strcmp(mode, "adapt") == 0;
    int nice = strcmp(mode, "nice") == 0;
    int p[2], q[2];
    if (pipe(p) || pipe(q)) return 1;
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { 4, f };
        int fd = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        char b;
        if (fd < 0 || write(p[1], &fd, sizeof fd) != sizeof fd || read(q[0], &b, 1) != 1) _exit(1);
        double c0 = cpu(), busy = 0;
        for (long i = 0; i < n; i++) {
            double t = now();
            int o = open("/etc/passwd", O_RDONLY); if (o < 0) { perror("open"); _exit(1); }
            close(o);
            busy += now() - t;
            if (gap) usleep(gap);
        }
        printf("%.0f %.0f", busy / n, (cpu() - c0) / n);
        fflush(stdout);
        _exit(0);
    }
    int cfd;
    if (read(p[0], &cfd, sizeof cfd) != sizeof cfd) return 1;
    int pidfd = syscall(SYS_pidfd_open, child, 0);
    int nfd = syscall(SYS_pidfd_getfd, pidfd, cfd, 0);
    if (nfd < 0 || ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (__u64)1) < 0) { perror("listener"); return 1; }
    struct sched_param sp = { 0 };
    if (nice)
        setpriority(PRIO_PROCESS, 0, -10);
    else
        sched_setscheduler(0, idle ? SCHED_IDLE : SCHED_BATCH, &sp);
    int root = open("/", O_PATH | O_DIRECTORY), stats = open("/proc/thread-self/schedstat", O_RDONLY);
    long hits = 0, misses = 0, answers = 0;
    double c0 = cpu(), last_delay = 0, retry = 0, backoff = 50e6;
    if (write(q[1], "x", 1) != 1) return 1;
    for (;;) {
        struct seccomp_notif req;
        memset(&req, 0, sizeof req);
        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == EINTR || (errno == ENOENT && waitpid(child, NULL, WNOHANG) == 0)) continue;
            break;
        }
        int o = openat(root, "etc/passwd", O_RDONLY | O_CLOEXEC);
        struct seccomp_notif_addfd a = { .id = req.id, .srcfd = o, .flags = SECCOMP_ADDFD_FLAG_SEND };
        ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
        close(o);
        if (adapt && ++answers % 4 == 0) {
            char b[128]; double run, delay = last_delay; long got = pread(stats, b, sizeof b - 1, 0);
            if (got > 0) { b[got] = 0; sscanf(b, "%lf %lf", &run, &delay); }
            double t = now();
            if (idle && delay - last_delay > 4 * 20000.0) {
                sched_setscheduler(0, SCHED_BATCH, &sp); idle = 0; retry = t + backoff; if (backoff < 5e9) backoff *= 2;
            } else if (!idle && t > retry) {
                sched_setscheduler(0, SCHED_IDLE, &sp); idle = 1;
            }
            last_delay = delay;
        }
        if (spin) {
            struct pollfd pf = { nfd, POLLIN, 0 };
            double until = now() + spin; int ready = 0;
            do { if (poll(&pf, 1, 0) > 0) { ready = 1; break; } __builtin_ia32_pause(); } while (now() < until);
            if (ready) hits++; else misses++;
        }
    }
    waitpid(child, NULL, 0);
    printf(" %.0f %ld %ld\n", (cpu() - c0) / n, hits, misses);
    return 0;
}
