using System.Text.Json;

namespace Moat.Tests.Containers;

/// <summary>stats: what the container's cgroups say, in docker's table and JSON.</summary>
public sealed class StatsTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void NoStreamReadsTheContainersCgroupsOnce()
    {
        store.Ok("run", "-d", "--name", "busy", "--memory", "64m", "busybox", "sh", "-c", "dd if=/dev/zero of=/tmp/f bs=1k count=2048 2>/dev/null; sync; while :; do :; done");
        store.Ok("create", "--name", "idle", "busybox", "true");
        try
        {
            store.Ok("exec", "-d", "busy", "sleep", "1000");
            ContainerStore.Eventually(() => Reading("busy").GetProperty("PIDs").GetString() == "2", "two processes (the looping sh and the exec'd sleep) counted by the pids cgroup");
            var busy = Reading("busy");
            Assert.EndsWith(" / 64MiB", busy.GetProperty("MemUsage").GetString());
            // The loop burns CPU from the start: its average since the start is above zero.
            Assert.NotEqual("0.00%", busy.GetProperty("CPUPerc").GetString());
            Assert.EndsWith("%", busy.GetProperty("MemPerc").GetString());
            // Its own network namespace holds only lo, which is not counted.
            Assert.Equal("0B / 0B", busy.GetProperty("NetIO").GetString());
            Assert.Equal("busy", busy.GetProperty("Name").GetString());

            var table = store.Ok("stats", "--no-stream").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"],
                table[0].Split("   ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains(table, l => l.Contains("busy", StringComparison.Ordinal));
            Assert.DoesNotContain(table, l => l.Contains("idle", StringComparison.Ordinal));
            Assert.Contains(store.Ok("stats", "--no-stream", "-a").Split('\n'), l => l.Contains("idle", StringComparison.Ordinal) && l.Contains("0.00%", StringComparison.Ordinal));
            Assert.Equal(125, store.Run("stats", "--no-stream", "no-such-container").ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "busy", "idle");
        }
    }

    [Fact]
    public async Task StreamingPrintsAReadingEverySecondUntilInterrupted()
    {
        store.Ok("run", "-d", "--name", "streamed", "busybox", "sleep", "1000");
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo(Tests.Images.Cli.MoatProcess.Binary) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--root", store.Moat.Root, "stats", "--format", "json", "streamed" }) start.ArgumentList.Add(a);
            using var stats = System.Diagnostics.Process.Start(start)!;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            for (var i = 0; i < 2; i++)
            {
                using var line = JsonDocument.Parse((await stats.StandardOutput.ReadLineAsync(deadline.Token))!);
                Assert.Equal("1", line.RootElement.GetProperty("PIDs").GetString());
            }
            Moat.Interop.Libc.kill(stats.Id, Moat.Interop.Libc.SIGINT);
            await stats.WaitForExitAsync(deadline.Token);
            Assert.Equal(0, stats.ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "streamed");
        }
    }

    JsonElement Reading(string container)
    {
        using var document = JsonDocument.Parse(store.Ok("stats", "--no-stream", "--format", "json", container));
        return document.RootElement.Clone();
    }
}
