// moat_write_detached(): writes a short text into a file from a native thread of its own and
// returns at once. The cgroup v1 warm-up (src/Moat.Runtime/Cgroups/MigrationWarmup.cs) uses it:
// its write blocks for an RCU grace period, and a managed Thread.Start would spin in sched_yield
// until the new thread has set itself up in the .NET runtime (measured: ~750 yields, up to 30 ms of
// a create on a loaded 2-core host). This thread never runs managed code and nobody waits for it;
// process exit ends it if it is still blocked.
// moat_keep_writing() repeats such a write every few milliseconds until stopped: moat keeps that
// grace period passed while the monitor and the runtime start (src/Moat.Engine/Containers/MigrationWarmth.cs).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct detached_write {
    size_t length;
    char *data; // points into this allocation, after path
    // moat_keep_writing only: the pause between writes, the last moment to write, and the generation
    // (see below) that started this thread.
    long interval_us;
    struct timespec until;
    int generation;
    char path[];
};

// The generation of the current moat_keep_writing thread: moat_stop_writing moves it on, and a thread
// that sees a generation other than its own stops.
static atomic_int keep_writing_generation;

static void write_once(const struct detached_write *w)
{
    int fd;
    do {
        fd = open(w->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0) {
        // Only an optimisation: a failed write is dropped (the real work reports its own errors).
        while (write(fd, w->data, w->length) < 0 && errno == EINTR) {
        }
        close(fd);
    }
}

static int before(const struct timespec *now, const struct timespec *until)
{
    return now->tv_sec < until->tv_sec || (now->tv_sec == until->tv_sec && now->tv_nsec < until->tv_nsec);
}

static void *write_and_exit(void *arg)
{
    struct detached_write *w = arg;
    write_once(w);
    free(w);
    return NULL;
}

static void *write_until_stopped(void *arg)
{
    struct detached_write *w = arg;
    struct timespec now, pause = { w->interval_us / 1000000, (w->interval_us % 1000000) * 1000 };
    do {
        write_once(w);
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (atomic_load(&keep_writing_generation) == w->generation && before(&now, &w->until));
    free(w);
    return NULL;
}

static struct detached_write *request(const char *path, const char *data)
{
    size_t path_length = strlen(path), data_length = strlen(data);
    struct detached_write *w = calloc(1, sizeof *w + path_length + 1 + data_length + 1);
    if (w == NULL)
        return NULL;
    memcpy(w->path, path, path_length + 1);
    w->data = w->path + path_length + 1;
    memcpy(w->data, data, data_length + 1);
    w->length = data_length;
    return w;
}

// Starts a detached thread running routine(w); frees w when it cannot. Returns 0 or an errno value.
static int start_detached(void *(*routine)(void *), struct detached_write *w)
{
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) {
        free(w);
        return rc;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    // The thread starts with every signal blocked, so that none meant for the runtime's threads
    // (or the caller's handlers) is delivered to it.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t thread;
    rc = pthread_create(&thread, &attr, routine, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        free(w);
    return rc;
}

// Returns 0, or an errno value when the thread could not be started (nothing was written then).
int moat_write_detached(const char *path, const char *data)
{
    struct detached_write *w = request(path, data);
    return w == NULL ? ENOMEM : start_detached(write_and_exit, w);
}

// Writes data into path from a thread of its own at once and then every interval_us, until
// moat_stop_writing or limit_ms have passed (whichever is first), and returns at once: 0, or an errno
// value when the thread could not be started. One such thread at a time: a new one ends the last.
int moat_keep_writing(const char *path, const char *data, long interval_us, long limit_ms)
{
    struct detached_write *w = request(path, data);
    if (w == NULL)
        return ENOMEM;
    w->interval_us = interval_us;
    clock_gettime(CLOCK_MONOTONIC, &w->until);
    w->until.tv_sec += limit_ms / 1000;
    w->until.tv_nsec += (limit_ms % 1000) * 1000000;
    if (w->until.tv_nsec >= 1000000000) {
        w->until.tv_sec++;
        w->until.tv_nsec -= 1000000000;
    }
    w->generation = atomic_fetch_add(&keep_writing_generation, 1) + 1;
    return start_detached(write_until_stopped, w);
}

// Ends the moat_keep_writing thread after its current write (it does not wait for that).
void moat_stop_writing(void)
{
    atomic_fetch_add(&keep_writing_generation, 1);
}
