// Keeps the CPUs that a sandboxed container's brokered calls cross from halting while those calls come
// fast (docs/sandbox.md, "Keeping the CPUs awake"). A brokered open is three wake-ups between the
// caller's thread and the supervisor's serving thread, and the kernel places a woken thread on an idle
// CPU when it has one: in a virtual machine whose idle CPUs halt, each such wake-up goes through the
// host (~25 µs here, most of a brokered open on a quiet machine). One spinner thread per CPU, SCHED_IDLE
// in a cpu cgroup of its own with cpu.idle set, keeps each CPU running while the calls come: the
// scheduler counts a CPU that runs only idle work as idle, so it still places the woken thread there,
// and preempts the spinner at once instead of waking a halted CPU.
//
// The supervisor and its keep-awake process share one page (a memfd): the supervisor stamps the time of
// each answer (moat_awake_touch); the spinners spin while the last answer is younger than the window,
// and otherwise park on a futex, which the supervisor's touch moves on only when two answers come
// within the window of each other (a sparse caller never wakes them).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct moat_awake {
    _Atomic int64_t last_answer_ns; // CLOCK_MONOTONIC of the supervisor's last answer
    _Atomic uint32_t wake_seq;      // futex word: moved on to wake parked spinners
    _Atomic int32_t parked;         // 1: a spinner has parked, or is about to, since the last wake
    int64_t window_ns;              // hot while answers come closer than this; spinners spin this long after one
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// The shared page, mapped; its memfd in *fd_out (close-on-exec). NULL with errno on failure.
struct moat_awake *moat_awake_create(int64_t window_ns, int *fd_out)
{
    int fd = memfd_create("moat-keep-awake", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct moat_awake *a = MAP_FAILED;
    if (ftruncate(fd, sizeof *a) == 0)
        a = mmap(NULL, sizeof *a, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED) {
        int error = errno;
        close(fd);
        errno = error;
        return NULL;
    }
    a->window_ns = window_ns;
    atomic_store(&a->last_answer_ns, INT64_MIN / 2);
    *fd_out = fd;
    return a;
}

// After each answer: 1 when it came within the window of the one before (the calls are coming fast; the
// parked spinners were woken), 0 otherwise. Without a system call unless spinners are parked.
int moat_awake_touch(struct moat_awake *a)
{
    int64_t now = now_ns();
    int64_t previous = atomic_exchange(&a->last_answer_ns, now);
    if (now - previous >= a->window_ns)
        return 0;
    // One wake per parking: a woken spinner may wait long for a CPU on a busy machine (it is idle
    // work), and every answer meanwhile would otherwise make a futex call of its own.
    if (atomic_load(&a->parked) && atomic_exchange(&a->parked, 0)) {
        atomic_fetch_add(&a->wake_seq, 1);
        // Not FUTEX_PRIVATE: the spinners are another process.
        syscall(SYS_futex, &a->wake_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    }
    return 1;
}

// A spinner kept from its CPU longer than this (between two of its own looks at the clock) stands aside
// for STAND_ASIDE_NS. The callers and serving threads that preempt it on a quiet machine run a few tens
// of µs at a time; a busy loop beside it holds the CPU for whole ticks (4 ms).
#define CONTENDED_NS 500000
#define STAND_ASIDE_NS 20000000
// Nor does a spinner that got less than MIN_SHARE_PERCENT of its CPU over SHARE_WINDOW_NS: where other
// work runs on its CPU, that CPU does not halt, and a spinner only takes the place of the idle CPU that
// the scheduler would otherwise have pulled a waiting thread to.
#define SHARE_WINDOW_NS 4000000
#define MIN_SHARE_PERCENT 25

// Nor do the spinners while the machine runs more than they and one brokered pair would: read from
// /proc/loadavg's count of runnable threads (spinners included) every LOAD_CHECK_NS of spinning. A
// runnable spinner is not nothing to the scheduler: a CPU that has one never runs its idle balancing,
// which would pull a serving thread or caller waiting behind busy work on the other CPU.
#define LOAD_CHECK_NS 1000000

static int64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

struct spinner {
    struct moat_awake *awake;
    int cpu;
    int spinners; // how many spinners the process has
};

// Runnable threads on the whole machine now (the 4th field of /proc/loadavg, "running/total"); -1 when unreadable.
static int runnable_threads(void)
{
    char text[128];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = 0;
    int running = -1;
    return sscanf(text, "%*s %*s %*s %d/", &running) == 1 ? running : -1;
}

static int hot(struct moat_awake *a)
{
    return now_ns() - atomic_load(&a->last_answer_ns) < a->window_ns;
}

static void *spin(void *arg)
{
    struct spinner *s = arg;
    struct moat_awake *a = s->awake;
    // glibc's thread attributes take no SCHED_IDLE: this thread's own, before it first spins.
    struct sched_param none = { 0 };
    if (sched_setscheduler(0, SCHED_IDLE, &none) != 0)
        return NULL;
    int64_t last_turn = now_ns(), share_from = last_turn, cpu_from = thread_cpu_ns(), load_checked = last_turn;
    int overloaded = 0;
    while (1) {
        int64_t now = now_ns();
        int contended = now - last_turn > CONTENDED_NS;
        if (!contended && now - load_checked > LOAD_CHECK_NS) {
            // The spinners (one preempted by the pair is still runnable), the caller and the serving
            // thread (both runnable for a moment at each wake-up); two looks in a row.
            overloaded = runnable_threads() > s->spinners + 2 ? overloaded + 1 : 0;
            contended = overloaded >= 2;
            load_checked = now;
        }
        if (!contended && now - share_from > SHARE_WINDOW_NS) {
            // Its share of the CPU over the window: the caller and the serving thread take a part of it
            // on a quiet machine; other work that keeps the CPU from halting leaves it almost none.
            int64_t cpu = thread_cpu_ns();
            contended = (cpu - cpu_from) * 100 < (now - share_from) * MIN_SHARE_PERCENT;
            share_from = now;
            cpu_from = cpu;
        }
        if (contended) {
            // Its CPU has other work, so it does not halt, and a spinner there is of no use. Out of
            // the way for a while (not woken by answers).
            struct timespec pause = { 0, STAND_ASIDE_NS };
            nanosleep(&pause, NULL);
            overloaded = 0;
            last_turn = share_from = now_ns();
            cpu_from = thread_cpu_ns();
            continue;
        }
        last_turn = now;
        if (now - atomic_load(&a->last_answer_ns) < a->window_ns) {
            for (int i = 0; i < 8; i++)
                __builtin_ia32_pause();
            continue;
        }
        // Park. Announced before the last look at the time, which the touch stamps before it looks at
        // `parked`: either this sees the new answer, or the touch sees the flag and moves wake_seq on.
        atomic_store(&a->parked, 1);
        uint32_t seq = atomic_load(&a->wake_seq);
        if (!hot(a))
            syscall(SYS_futex, &a->wake_seq, FUTEX_WAIT, seq, NULL, NULL, 0);
        last_turn = share_from = now_ns();
        cpu_from = thread_cpu_ns();
    }
    return NULL;
}

// The keep-awake process's work: maps the shared page from `fd`, starts one spinner per CPU of `cpus`
// (each confined to its CPU, SCHED_IDLE), and returns when `parent_pidfd` polls readable (the supervisor
// has exited); the caller then exits, which ends the spinners. 0, or an errno when nothing could start.
int moat_awake_serve(int fd, int parent_pidfd, const int *cpus, int count)
{
    struct moat_awake *a = mmap(NULL, sizeof *a, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED)
        return errno;
    struct spinner *spinners = calloc(count, sizeof *spinners);
    if (spinners == NULL)
        return ENOMEM;
    int started = 0;
    for (int i = 0; i < count; i++) {
        spinners[i] = (struct spinner){ a, cpus[i], count };
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpus[i], &set);
        // Set before the thread runs: it never spins on another CPU.
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        pthread_t thread;
        if (pthread_create(&thread, &attr, spin, &spinners[i]) == 0)
            started++;
        pthread_attr_destroy(&attr);
    }
    if (started == 0)
        return EAGAIN;
    struct pollfd parent = { parent_pidfd, POLLIN, 0 };
    while (poll(&parent, 1, -1) < 0 && errno == EINTR) {
    }
    return 0;
}
