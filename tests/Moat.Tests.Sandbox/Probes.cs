namespace Moat.Tests.Sandbox;

/// <summary>Static C probes for what busybox cannot do: raw system calls, a TOCTOU race, threads.</summary>
public static class Probes
{
    /// <summary>Each dangerous call, printed as name=errno (0 would mean it ran).</summary>
    const string Refused = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <stdio.h>
        #include <unistd.h>
        #include <sys/syscall.h>
        #include <sys/mount.h>
        #include <sched.h>
        #include <string.h>
        static void report(const char *name, long r) { printf("%s=%d\n", name, r < 0 ? errno : 0); }
        int main(void) {
            char attr[128]; memset(attr, 0, sizeof attr);
            report("mount", mount("none", "/tmp", "tmpfs", 0, 0));
            report("ptrace", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0));
            report("bpf", syscall(SYS_bpf, 0, attr, sizeof attr));
            report("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
            report("unshare", unshare(CLONE_NEWNS));
            report("io_uring_setup", syscall(SYS_io_uring_setup, 1, attr));
            report("userfaultfd", syscall(SYS_userfaultfd, 0));
            report("perf_event_open", syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
            report("setns", syscall(SYS_setns, 0, 0));
            report("open_tree", syscall(SYS_open_tree, -100, "/", 0));
            return 0;
        }
        """;

    /// <summary>
    /// One thread flips a path buffer between an allowed and a forbidden file while the main thread
    /// opens it, many thousand times; prints how many opens read the forbidden file's content.
    /// </summary>
    const string Race = """
        #include <fcntl.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        static char path[64];
        static volatile int stop;
        static void *flip(void *arg) {
            (void)arg;
            // Each value held for a moment, so that both sides of the race are really taken.
            while (!stop) {
                memcpy(path, "/tmp/allowed", 13);
                for (volatile int i = 0; i < 3000; i++) {}
                memcpy(path, "/secret/data", 13);
                for (volatile int i = 0; i < 3000; i++) {}
            }
            return 0;
        }
        int main(int argc, char **argv) {
            int rounds = argc > 1 ? atoi(argv[1]) : 20000;
            int fd = open("/tmp/allowed", O_CREAT | O_WRONLY | O_TRUNC, 0644);
            if (fd < 0 || write(fd, "allowed", 7) != 7) { perror("setup"); return 2; }
            close(fd);
            memcpy(path, "/tmp/allowed", 13);
            pthread_t t;
            pthread_create(&t, 0, flip, 0);
            int leaked = 0, opened = 0, refused = 0;
            for (int i = 0; i < rounds; i++) {
                int f = open(path, O_RDONLY);
                if (f < 0) { refused++; continue; }
                opened++;
                char buf[16] = {0};
                if (read(f, buf, sizeof buf - 1) > 0 && strcmp(buf, "SECRET") == 0) leaked++;
                close(f);
            }
            stop = 1;
            pthread_join(t, 0);
            printf("opened=%d refused=%d leaked=%d\n", opened, refused, leaked);
            return 0;
        }
        """;

    /// <summary>Eight threads, each opening, writing and reading its own file 200 times.</summary>
    const string Threads = """
        #include <fcntl.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <unistd.h>
        static int failures;
        static void *work(void *arg) {
            char name[64];
            snprintf(name, sizeof name, "/tmp/thread-%ld", (long)arg);
            for (int i = 0; i < 200; i++) {
                int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
                if (fd < 0 || write(fd, "x", 1) != 1) __sync_fetch_and_add(&failures, 1);
                if (fd >= 0) close(fd);
            }
            return 0;
        }
        int main(void) {
            pthread_t t[8];
            for (long i = 0; i < 8; i++) pthread_create(&t[i], 0, work, (void *)i);
            for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
            printf("failures=%d\n", failures);
            return failures != 0;
        }
        """;

    public static readonly (string Name, string Source)[] All = [("refused-probe", Refused), ("race-probe", Race), ("threads-probe", Threads)];
}
