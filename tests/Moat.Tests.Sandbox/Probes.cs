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


    /// <summary>
    /// Sends with a destination (sendto, sendmsg, sendmmsg) to an allowed and a refused address, a send
    /// on a connected socket, a descriptor passed with SCM_RIGHTS, and a race: a thread flipping a
    /// msghdr's destination between the allowed 127.0.0.1:8080 and the refused 127.0.0.2:8080 while the
    /// main thread sends, many times; prints what arrived where.
    /// </summary>
    const string Send = """
        #define _GNU_SOURCE
        #include <arpa/inet.h>
        #include <errno.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <unistd.h>
        static struct sockaddr_in allowed, refused, target;
        static volatile int stop;
        static int receiver(const char *ip) {
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080) };
            inet_pton(AF_INET, ip, &a.sin_addr);
            if (bind(s, (void *)&a, sizeof a) < 0) { perror("bind"); exit(2); }
            struct timeval t = { 0, 200000 };
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
            return s;
        }
        static int drain(int s) { char b[64]; int n = 0; while (recv(s, b, sizeof b, MSG_DONTWAIT) > 0) n++; return n; }
        static int got(int s, const char *what) { char b[64] = {0}; return recv(s, b, sizeof b - 1, 0) > 0 && strcmp(b, what) == 0; }
        static void *flip(void *arg) {
            (void)arg;
            while (!stop) {
                target = allowed;
                for (volatile int i = 0; i < 2000; i++) {}
                target = refused;
                for (volatile int i = 0; i < 2000; i++) {}
            }
            return 0;
        }
        static long msg(int s, struct sockaddr_in *to, const char *text) {
            struct iovec v = { (void *)text, strlen(text) };
            struct msghdr m = { .msg_name = to, .msg_namelen = to ? sizeof *to : 0, .msg_iov = &v, .msg_iovlen = 1 };
            return sendmsg(s, &m, 0);
        }
        int main(int argc, char **argv) {
            int rounds = argc > 1 ? atoi(argv[1]) : 5000;
            int a = receiver("127.0.0.1"), b = receiver("127.0.0.2");
            allowed = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(8080) };
            inet_pton(AF_INET, "127.0.0.1", &allowed.sin_addr);
            refused = allowed;
            inet_pton(AF_INET, "127.0.0.2", &refused.sin_addr);
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            long r = sendto(s, "one", 3, 0, (void *)&allowed, sizeof allowed);
            printf("sendto-allowed=%s\n", r == 3 && got(a, "one") ? "ok" : "failed");
            r = sendto(s, "two", 3, 0, (void *)&refused, sizeof refused);
            printf("sendto-refused=%d\n", r < 0 ? errno : 0);
            r = msg(s, &allowed, "three");
            printf("sendmsg-allowed=%s\n", r == 5 && got(a, "three") ? "ok" : "failed");
            r = msg(s, &refused, "four");
            printf("sendmsg-refused=%d\n", r < 0 ? errno : 0);
            struct iovec v[3] = { { "m0", 2 }, { "m1", 2 }, { "m2", 2 } };
            struct mmsghdr mm[3];
            memset(mm, 0, sizeof mm);
            for (int i = 0; i < 3; i++) { mm[i].msg_hdr.msg_iov = &v[i]; mm[i].msg_hdr.msg_iovlen = 1; mm[i].msg_hdr.msg_name = &allowed; mm[i].msg_hdr.msg_namelen = sizeof allowed; }
            r = sendmmsg(s, mm, 3, 0);
            int g0 = got(a, "m0"), g1 = got(a, "m1"), g2 = got(a, "m2");
            printf("sendmmsg-allowed=%ld lens=%u,%u,%u got=%d,%d,%d\n", r, mm[0].msg_len, mm[1].msg_len, mm[2].msg_len, g0, g1, g2);
            mm[1].msg_hdr.msg_name = &refused;
            r = sendmmsg(s, mm, 3, 0);
            printf("sendmmsg-partial=%ld\n", r);
            drain(a);
            mm[0].msg_hdr.msg_name = &refused;
            r = sendmmsg(s, mm, 3, 0);
            printf("sendmmsg-refused=%d\n", r < 0 ? errno : 0);
            drain(a);
            int c = socket(AF_INET, SOCK_DGRAM, 0);
            connect(c, (void *)&allowed, sizeof allowed);
            r = msg(c, 0, "five");
            printf("connected=%s\n", r == 4 && got(a, "five") ? "ok" : "failed");
            int pair[2], pipefd[2];
            socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
            pipe(pipefd);
            char cbuf[CMSG_SPACE(sizeof(int))];
            struct iovec pv = { "fd", 2 };
            struct msghdr pm = { .msg_iov = &pv, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
            struct cmsghdr *cm = CMSG_FIRSTHDR(&pm);
            cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &pipefd[1], sizeof(int));
            r = sendmsg(pair[0], &pm, 0);
            char rb[8]; char rc[CMSG_SPACE(sizeof(int))];
            struct iovec rv = { rb, sizeof rb };
            struct msghdr rm = { .msg_iov = &rv, .msg_iovlen = 1, .msg_control = rc, .msg_controllen = sizeof rc };
            int passed = -1;
            if (r == 2 && recvmsg(pair[1], &rm, 0) == 2 && CMSG_FIRSTHDR(&rm)) memcpy(&passed, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(int));
            char pb[4] = {0};
            printf("scm-rights=%s\n", passed >= 0 && write(passed, "ok", 2) == 2 && read(pipefd[0], pb, 2) == 2 && strcmp(pb, "ok") == 0 ? "ok" : "failed");
            drain(a); drain(b);
            target = allowed;
            pthread_t t;
            pthread_create(&t, 0, flip, 0);
            int sent = 0, failed = 0, reached = 0, leaked = 0;
            for (int i = 0; i < rounds; i++) {
                if (msg(s, &target, "race") == 4) sent++; else failed++;
                if (i % 64 == 63) { reached += drain(a); leaked += drain(b); }
            }
            stop = 1;
            pthread_join(t, 0);
            usleep(100000);
            reached += drain(a); leaked += drain(b);
            printf("race sent=%d refused=%d reached=%d leaked=%d\n", sent, failed, reached, leaked);
            return 0;
        }
        """;

    /// <summary>
    /// open-as UID PATH...: becomes UID (and its group; no supplementary groups, no capabilities left) and
    /// opens each path for reading, printing "open PATH=errno" (0: opened). The supervisor resolves an open
    /// with the caller's ids, so a directory the caller cannot search refuses it as the kernel would.
    /// </summary>
    const string OpenAs = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <grp.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc < 3) return 2;
            unsigned id = (unsigned)atoi(argv[1]);
            setgroups(0, 0); /* refused when the user namespace denies it: root's groups are only 0 */
            if (setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) { perror("setres*id"); return 2; }
            for (int i = 2; i < argc; i++) {
                int fd = open(argv[i], O_RDONLY);
                printf("open %s=%d\n", argv[i], fd < 0 ? errno : 0);
                if (fd >= 0) close(fd);
            }
            return 0;
        }
        """;

    /// <summary>
    /// The status flags of brokered opens, as F_GETFL shows them: the supervisor opens with O_NONBLOCK
    /// and takes it off again, so only what the caller asked may show.
    /// </summary>
    const string OpenFlags = """
        #include <fcntl.h>
        #include <stdio.h>
        #include <unistd.h>
        static void show(const char *name, const char *path, int flags) {
            int fd = open(path, flags, 0644);
            if (fd < 0) { printf("%s=failed\n", name); return; }
            int fl = fcntl(fd, F_GETFL);
            printf("%s=%s%s%s cloexec=%d\n", name, (fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw",
                fl & O_NONBLOCK ? " nonblock" : "", fl & O_APPEND ? " append" : "", fcntl(fd, F_GETFD) & FD_CLOEXEC);
            close(fd);
        }
        int main(void) {
            show("read", "/etc/passwd", O_RDONLY);
            show("nonblock", "/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            show("append", "/tmp/flags", O_WRONLY | O_CREAT | O_APPEND);
            show("again", "/tmp/flags", O_RDWR | O_CREAT);
            show("directory", "/etc", O_RDONLY | O_DIRECTORY);
            return 0;
        }
        """;

    public static readonly (string Name, string Source)[] All = [("open-flags", OpenFlags), ("refused-probe", Refused), ("race-probe", Race), ("threads-probe", Threads), ("send-probe", Send), ("open-as", OpenAs)];
}
