#!/usr/bin/env bash
# Whether a serving thread that does not go straight back to sleep makes a brokered open cheaper on
# this machine (issue 20). Not a test: nothing is asserted. A C model of the supervisor (the "minimal"
# one of bench/sandbox-floor.sh: RECV, openat, ADDFD with SEND, close; SCHED_BATCH nice 0 as the
# sandbox's serving threads are), its serving loop run in these modes, interleaved, medians of RUNS:
#   batch      as the sandbox today: back into the blocking RECV after each answer
#   spinN      after each answer, poll the listener without sleeping (poll timeout 0, a `pause`
#              between polls) for up to N µs; RECV at once when a call is pending, block after the bound
#   idle       the serving thread SCHED_IDLE: a woken caller is placed on the CPU the thread runs on
#              (a CPU running only SCHED_IDLE work counts as idle), so the pair stays on one CPU
#   adapt      idle, but every 4 answers it reads its own run delay (/proc/thread-self/schedstat);
#              more than 20 µs a call waiting for a CPU: SCHED_BATCH for 50 ms, doubling to 5 s
# Two loops: "tight" (a caller looping open+close: ns per open, CPU per open (getrusage) of the caller and of
# the supervisor, and for spin, how many answers were followed by a call during the spin) and
# "sparse" (one open every ms, 2,000 of them: the supervisor's CPU per open, what a spin costs a
# workload that cannot profit from it).
# Usage: bench/sandbox-spin.sh [RUNS]   (root not needed; gcc)
#   MODES="batch spin20 ..."  the modes (default: batch spin20 spin50 spin100 idle adapt)
#   LOAD=N                    N busy loops (nice 0) run throughout, for a loaded machine
#   N=20000                   opens per tight run
set -euo pipefail
runs=${1:-5}
modes=${MODES:-batch spin20 spin50 spin100 idle adapt}
n=${N:-20000}
work=$(mktemp -d /tmp/moat-sandbox-spin.XXXXXX)
burners=()
trap 'for b in "${burners[@]}"; do kill "$b" 2>/dev/null || true; done; rm -rf "$work"' EXIT
cat > "$work/model.c" <<'C'
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
// model N MODE GAP_US: prints "ns-per-open caller-cpu supervisor-cpu spin-hits spin-misses"
int main(int argc, char **argv) {
    long n = atol(argv[1]); const char *mode = argv[2]; long gap = atol(argv[3]);
    long spin = strncmp(mode, "spin", 4) == 0 ? atol(mode + 4) * 1000 : 0;
    int idle = strcmp(mode, "idle") == 0 || strcmp(mode, "adapt") == 0, adapt = strcmp(mode, "adapt") == 0;
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
C
gcc -O2 -o "$work/model" "$work/model.c"
for i in $(seq "${LOAD:-0}"); do (exec sh -c 'while :; do :; done') & burners+=($!); done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); $runs runs each, interleaved; medians (min-max)${LOAD:+; $LOAD busy loops}"
echo "# load at start:$(uptime | sed 's/.*load average//')"
declare -A tight sparse
for i in $(seq "$runs"); do
  for m in $modes; do
    tight[$m]+="$("$work/model" "$n" "$m" 0 | tr ' ' ,) "
    sparse[$m]+="$("$work/model" 2000 "$m" 1000 | tr ' ' ,) "
  done
done
col() { tr ' ' '\n' | grep . | cut -d, -f"$1"; }
stat() { local v; v=$(col "$1"); printf '%s (%s-%s)' "$(echo "$v" | median)" "$(echo "$v" | sort -n | head -1)" "$(echo "$v" | sort -n | tail -1)"; }
for m in $modes; do
  printf '%-8s tight: %s ns/open, CPU/open caller %s supervisor %s ns' "$m" "$(echo ${tight[$m]} | stat 1)" "$(echo ${tight[$m]} | stat 2 | cut -d' ' -f1)" "$(echo ${tight[$m]} | stat 3 | cut -d' ' -f1)"
  case $m in spin*) printf ', answers followed by a call within the spin %s of %s' "$(echo ${tight[$m]} | col 4 | median)" "$n";; esac
  printf '; sparse: %s ns/open, supervisor CPU/open %s ns\n' "$(echo ${sparse[$m]} | stat 1 | cut -d' ' -f1)" "$(echo ${sparse[$m]} | stat 3)"
done
echo "# load at end:$(uptime | sed 's/.*load average//')"
