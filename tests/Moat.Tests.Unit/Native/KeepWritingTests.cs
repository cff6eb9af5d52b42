using Xunit;

namespace Moat.Tests.Unit.Native;

/// <summary>
/// native/detached-write.c's moat_keep_writing, which `moat create`/`run` use to keep the cgroup v1 migration
/// lock warm (Moat.Engine's MigrationWarmth): a C program links the helper, points it at a FIFO it reads, and
/// reports what arrived and whether the writing thread ended, both after moat_stop_writing and at the limit.
/// </summary>
public sealed class KeepWritingTests
{
    const string Program = """
        #include <dirent.h>
        #include <errno.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/stat.h>
        #include <time.h>
        #include <unistd.h>
        int moat_keep_writing(const char *path, const char *data, long interval_us, long limit_ms);
        void moat_stop_writing(void);

        static int threads(void) {
          int n = 0; DIR *d = opendir("/proc/self/task"); struct dirent *e;
          while ((e = readdir(d)) != NULL) if (e->d_name[0] != '.') n++;
          closedir(d); return n;
        }
        static void nap(long ms) { struct timespec t = { ms / 1000, (ms % 1000) * 1000000 }; nanosleep(&t, NULL); }
        /* Reads what arrived until `want` bytes or 30 s; returns how many. */
        static int collect(int fd, int want) {
          char buf[256]; int got = 0;
          for (int i = 0; i < 30000 && got < want; i++) { ssize_t r = read(fd, buf, sizeof buf); if (r > 0) got += r; else nap(1); }
          return got;
        }
        /* Waits up to 30 s for this process to be down to its main thread. */
        static int ended(void) { for (int i = 0; i < 30000; i++) { if (threads() == 1) return 1; nap(1); } return 0; }
        int main(int argc, char **argv) {
          const char *fifo = argv[1];
          if (mkfifo(fifo, 0600) != 0) return 2;
          int fd = open(fifo, O_RDONLY | O_NONBLOCK);
          /* A writer that opens the FIFO while no writer holds it: keep one of our own so reads never see end of file. */
          int keep = open(fifo, O_WRONLY | O_NONBLOCK);
          if (fd < 0 || keep < 0) return 3;
          if (moat_keep_writing(fifo, "x", 1000, 60000) != 0) return 4;
          printf("before_stop=%d\n", collect(fd, 3));
          moat_stop_writing();
          printf("ended_after_stop=%d\n", ended());
          while (read(fd, (char[64]){0}, 64) > 0) {}
          nap(20);
          printf("after_stop=%d\n", (int)read(fd, (char[64]){0}, 64) > 0);
          if (moat_keep_writing(fifo, "y", 1000, 30) != 0) return 5;
          printf("second_wrote=%d\n", collect(fd, 1));
          printf("ended_at_limit=%d\n", ended());
          return 0;
        }
        """;

    [Fact]
    public void WritesAtOnceAndAgainUntilStoppedOrAtItsLimit()
    {
        var dir = Directory.CreateTempSubdirectory("moat-keepwriting-");
        try
        {
            var result = CProbe.TextsOfRun(Program, [Path.Combine(dir.FullName, "fifo")],
                "-pthread", Path.Combine(CProbe.NativeDirectory, "detached-write.c"));
            Assert.True(int.Parse(result["before_stop"]) >= 3, $"{result["before_stop"]} bytes arrived before the stop");
            Assert.Equal("1", result["ended_after_stop"]);
            Assert.Equal("0", result["after_stop"]);
            Assert.Equal("1", result["second_wrote"]);
            Assert.Equal("1", result["ended_at_limit"]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
