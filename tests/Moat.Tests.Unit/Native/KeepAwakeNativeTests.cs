using Xunit;

namespace Moat.Tests.Unit.Native;

/// <summary>
/// native/keep-awake.c, the spinners a sandbox supervisor starts while its container's brokered calls come
/// fast: a C program links it, serves the page from a child process for a stand-in supervisor, and reports
/// what a touch answers, the spinner's policy, CPU and state (spinning or parked on its futex) as touches
/// come and stop, its standing aside beside a busy loop while touches still come, and the server's end
/// when its supervisor ends. States, never timings.
/// </summary>
public sealed class KeepAwakeNativeTests
{
    const string Program = """
        #define _GNU_SOURCE
        #include <dirent.h>
        #include <sched.h>
        #include <signal.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/syscall.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>
        struct moat_awake;
        struct moat_awake *moat_awake_create(int64_t window_ns, int *fd_out);
        int moat_awake_touch(struct moat_awake *a);
        int moat_awake_serve(int fd, int parent_pidfd, const int *cpus, int count);

        static void nap(long us) { struct timespec t = { us / 1000000, (us % 1000000) * 1000 }; nanosleep(&t, NULL); }
        /* The server's spinner thread (its one SCHED_IDLE thread): state and allowed CPUs; 0 when there is none yet. */
        static int spinner(pid_t server, char *state, char *cpus) {
          char path[320], text[1024]; DIR *d; struct dirent *e; int found = 0;
          snprintf(path, sizeof path, "/proc/%d/task", server);
          if ((d = opendir(path)) == NULL) return 0;
          while (!found && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "/proc/%d/task/%s/stat", server, e->d_name);
            FILE *f = fopen(path, "r"); if (f == NULL) continue;
            size_t n = fread(text, 1, sizeof text - 1, f); fclose(f); text[n] = 0;
            char *p = strrchr(text, ')') + 2; char s = *p; int field = 3;
            while (field < 41 && (p = strchr(p, ' ')) != NULL) { p++; field++; }
            if (p == NULL || atoi(p) != 5) continue;
            *state = s; found = 1;
            snprintf(path, sizeof path, "/proc/%d/task/%s/status", server, e->d_name);
            f = fopen(path, "r"); cpus[0] = 0;
            while (fgets(text, sizeof text, f)) if (sscanf(text, "Cpus_allowed_list: %31s", cpus) == 1) break;
            fclose(f);
          }
          closedir(d); return found;
        }
        /* Waits up to 10 s for the spinner to be in `want`; 1 when it was. */
        static int reaches(pid_t server, char want) {
          char s = 0, cpus[32];
          for (int i = 0; i < 10000; i++) { if (spinner(server, &s, cpus) && s == want) return 1; nap(1000); }
          return 0;
        }
        int main(void) {
          int fd; struct moat_awake *a = moat_awake_create(2000000, &fd);
          if (a == NULL) return 2;
          printf("first=%d\n", moat_awake_touch(a));
          pid_t keeper = fork(); /* stands in for the supervisor */
          if (keeper == 0) { pause(); _exit(0); }
          pid_t server = fork();
          if (server == 0) {
            int pidfd = syscall(SYS_pidfd_open, keeper, 0), cpu = 0;
            _exit(pidfd < 0 ? 9 : moat_awake_serve(fd, pidfd, &cpu, 1));
          }
          printf("parked_at_start=%d\n", reaches(server, 'S'));
          char s, cpus[32] = "";
          spinner(server, &s, cpus);
          printf("cpus=%s\n", cpus);
          nap(5000);
          printf("sparse=%d\n", moat_awake_touch(a));
          printf("fast=%d\n", moat_awake_touch(a));
          int ran = 0;
          for (int i = 0; i < 2000 && !ran; i++) { moat_awake_touch(a); nap(200); ran = spinner(server, &s, cpus) && s == 'R'; }
          printf("ran=%d\n", ran);
          printf("parked_after=%d\n", reaches(server, 'S'));
          /* Beside a busy loop on its CPU the spinner stands aside (sleeps) although the touches keep coming. */
          pid_t busy = fork();
          if (busy == 0) {
            cpu_set_t set; CPU_ZERO(&set); CPU_SET(0, &set); sched_setaffinity(0, sizeof set, &set);
            for (;;) {}
          }
          int aside = 0;
          for (int i = 0; i < 20000 && !aside; i++) { moat_awake_touch(a); nap(100); aside = i > 100 && spinner(server, &s, cpus) && s == 'S'; }
          printf("stood_aside=%d\n", aside);
          kill(busy, SIGKILL); waitpid(busy, NULL, 0);
          kill(keeper, SIGKILL); waitpid(keeper, NULL, 0);
          int status; waitpid(server, &status, 0);
          printf("server_exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
          return 0;
        }
        """;

    [Fact]
    public void SpinsWhileTouchesComeFastParksWhenTheyStopAndEndsWithItsSupervisor()
    {
        var result = CProbe.TextsOfRun(Program, [], "-pthread", Path.Combine(CProbe.NativeDirectory, "keep-awake.c"));
        Assert.Equal("0", result["first"]);
        Assert.Equal("1", result["parked_at_start"]);
        Assert.Equal("0", result["cpus"]);
        Assert.Equal("0", result["sparse"]);
        Assert.Equal("1", result["fast"]);
        Assert.Equal("1", result["ran"]);
        Assert.Equal("1", result["parked_after"]);
        Assert.Equal("1", result["stood_aside"]);
        Assert.Equal("0", result["server_exit"]);
    }
}
