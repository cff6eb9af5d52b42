// moat_write_detached(): writes a short text into a file from a native thread of its own and
// returns at once. The cgroup v1 warm-up (src/Moat.Runtime/Cgroups/MigrationWarmup.cs) uses it:
// its write blocks for an RCU grace period, and a managed Thread.Start would spin in sched_yield
// until the new thread has set itself up in the .NET runtime (measured: ~750 yields, up to 30 ms of
// a create on a loaded 2-core host). This thread never runs managed code and nobody waits for it;
// process exit ends it if it is still blocked.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct detached_write {
    size_t length;
    char *data; // points into this allocation, after path
    char path[];
};

static void *write_and_exit(void *arg)
{
    struct detached_write *w = arg;
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
    free(w);
    return NULL;
}

// Returns 0, or an errno value when the thread could not be started (nothing was written then).
int moat_write_detached(const char *path, const char *data)
{
    size_t path_length = strlen(path), data_length = strlen(data);
    struct detached_write *w = malloc(sizeof *w + path_length + 1 + data_length + 1);
    if (w == NULL)
        return ENOMEM;
    memcpy(w->path, path, path_length + 1);
    w->data = w->path + path_length + 1;
    memcpy(w->data, data, data_length + 1);
    w->length = data_length;

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
    rc = pthread_create(&thread, &attr, write_and_exit, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        free(w);
    return rc;
}
