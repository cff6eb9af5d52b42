using System.Diagnostics;
using System.Text.Json;

namespace Moat.Tests.Containers;

/// <summary>top, port, update (resources and --restart), events, restart, rm -v and exec -it: each checked from inside the container and from outside.</summary>
public sealed class VerbTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void TopListsTheContainersProcessesWithTheirHostPids()
    {
        store.Ok("run", "-d", "--name", "top", "busybox", "sleep", "1000");
        try
        {
            var pid = store.Inspect("top").GetProperty("State").GetProperty("Pid").GetInt32();
            store.Ok("exec", "-d", "top", "sleep", "999");
            ContainerStore.Eventually(() => store.Ok("top", "top").Contains("sleep 999"), "the exec'd process in top");
            var lines = store.Ok("top", "top").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("UID", lines[0]);
            var init = lines.Single(l => l.EndsWith("sleep 1000", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // Host pids and host uids, as docker's top shows them: the container's root is the first id of
            // its user namespace's range.
            var hostRoot = File.ReadAllText($"/proc/{pid}/uid_map").Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.NotEqual("0", hostRoot);
            Assert.Equal(hostRoot, init[0]);
            Assert.Equal(pid.ToString(), init[1]);
            store.Ok("stop", "-t", "0", "top");
            var refused = store.Run("top", "top");
            Assert.Equal(125, refused.ExitCode);
            Assert.Contains("is not running", refused.Stderr);
        }
        finally
        {
            store.Run("rm", "-f", "top");
        }
    }

    [Fact]
    public void PortPrintsThePublishedPortsAsDockerDoes()
    {
        var id = store.Ok("create", "--name", "ports", "busybox", "true").Trim();
        try
        {
            Assert.Equal("", store.Ok("port", "ports"));
            // Publishing belongs to the networks work; the record is what port reads, so the test writes it.
            using (var engineStore = new Moat.Engine.Store.ContainerStore(Path.Combine(store.Moat.Root, "images.db")))
            {
                var record = engineStore.Get(id)!;
                engineStore.Update(record with { Settings = record.Settings with { Ports = ["0.0.0.0:8080:80/tcp", "127.0.0.1:5353:53/udp"] } });
            }
            Assert.Equal("80/tcp -> 0.0.0.0:8080\n53/udp -> 127.0.0.1:5353\n", store.Ok("port", "ports"));
            Assert.Equal("0.0.0.0:8080\n", store.Ok("port", "ports", "80"));
            Assert.Equal("127.0.0.1:5353\n", store.Ok("port", "ports", "53/udp"));
            Assert.Equal(125, store.Run("port", "no-such-container").ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "ports");
        }
    }

    [Fact]
    public void UpdateChangesTheCgroupSeenInsideAndOutside()
    {
        store.Ok("run", "-d", "--name", "updated", "busybox", "sleep", "1000");
        try
        {
            store.Ok("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "77", "updated");
            var pid = store.Inspect("updated").GetProperty("State").GetProperty("Pid").GetInt32();
            // Outside: the init's own cgroups, as the kernel names them.
            Assert.Equal("67108864", CgroupFile(pid, "memory", "memory.limit_in_bytes", "memory.max"));
            Assert.Equal("77", CgroupFile(pid, "pids", "pids.max", "pids.max"));
            // Inside: the fork bomb limit is what the container's processes meet.
            var inside = store.Ok("exec", "updated", "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max");
            Assert.Equal("77\n", inside);
            var host = store.Inspect("updated").GetProperty("HostConfig");
            Assert.Equal("64m", host.GetProperty("memory").GetString());
            Assert.Equal("77", host.GetProperty("pids-limit").GetString());
            Assert.Contains("update", store.Ok("events", "--since", "5m", "--until", "0s", "--filter", "container=updated", "--filter", "event=update"));
        }
        finally
        {
            store.Run("rm", "-f", "updated");
        }
    }

    [Fact]
    public void UpdateRestartIsTakenByTheRunningMonitor()
    {
        // The container exits with 3 once /tmp/go exists: the policy in force at that moment decides.
        store.Ok("run", "-d", "--name", "policy", "busybox", "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3");
        try
        {
            store.Ok("update", "--restart", "on-failure:2", "policy");
            Assert.Equal("on-failure", store.Inspect("policy").GetProperty("HostConfig").GetProperty("RestartPolicy").GetProperty("Name").GetString());
            store.Ok("exec", "policy", "touch", "/tmp/go");
            ContainerStore.Eventually(() =>
            {
                var state = store.Inspect("policy");
                return state.GetProperty("RestartCount").GetInt32() == 2 && state.GetProperty("State").GetProperty("Status").GetString() == "exited";
            }, "two restarts (the file stays in the layer, so each run exits at once), then exited");
            Assert.Equal(3, store.Inspect("policy").GetProperty("State").GetProperty("ExitCode").GetInt32());

            var refused = store.Run("update", "--restart", "sometimes", "policy");
            Assert.Equal(125, refused.ExitCode);
            Assert.Contains("--restart", refused.Stderr);
        }
        finally
        {
            store.Run("rm", "-f", "policy");
        }
    }

    [Fact]
    public void UpdateRestartNoStopsAnAlwaysPolicy()
    {
        store.Ok("run", "-d", "--name", "calm", "--restart", "always", "busybox", "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 0");
        try
        {
            store.Ok("update", "--restart", "no", "calm");
            store.Ok("exec", "calm", "touch", "/tmp/go");
            Assert.Equal("0\n", store.Ok("wait", "calm"));
            var state = store.Inspect("calm");
            Assert.Equal(0, state.GetProperty("RestartCount").GetInt32());
            Assert.Equal("exited", state.GetProperty("State").GetProperty("Status").GetString());
            store.Ok("run", "--rm", "-d", "--name", "gone", "busybox", "sleep", "1000");
            var refused = store.Run("update", "--restart", "always", "gone");
            Assert.Equal(1, refused.ExitCode); // per container, as docker: 1 when any of those named failed
            Assert.Contains("--rm", refused.Stderr);
        }
        finally
        {
            store.Run("rm", "-f", "calm", "gone");
        }
    }

    [Fact]
    public void EventsRecordALifeAsDockerPrintsIt()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeSeconds().ToString();
        var id = store.Ok("run", "-d", "--name", "eventful", "busybox", "sh", "-c", "exit 4").Trim();
        store.Ok("wait", "eventful");
        store.Ok("rm", "eventful");
        var lines = store.Ok("events", "--since", since, "--until", "0s", "--filter", "container=" + id).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var actions = lines.Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(["create", "start", "die", "destroy"], actions.Where(a => a is "create" or "start" or "die" or "destroy"));
        Assert.Contains(lines, l => l.Contains("container die " + id, StringComparison.Ordinal) && l.Contains("exitCode=4", StringComparison.Ordinal));
        var json = store.Ok("events", "--since", since, "--until", "0s", "--filter", "container=" + id, "--filter", "event=die", "--format", "json").Trim();
        using var die = JsonDocument.Parse(json);
        Assert.Equal("die", die.RootElement.GetProperty("Action").GetString());
        Assert.Equal("eventful", die.RootElement.GetProperty("Actor").GetProperty("Attributes").GetProperty("name").GetString());
    }

    [Fact]
    public async Task EventsFollowsWhatHappensNow()
    {
        // events shows only what happens after it started: containers are run until one of their starts is seen.
        using var seen = new CancellationTokenSource();
        var runner = Task.Run(() =>
        {
            while (!seen.IsCancellationRequested)
            {
                store.Run("run", "--rm", "busybox", "true");
                seen.Token.WaitHandle.WaitOne(200);
            }
        });
        try
        {
            var start = new ProcessStartInfo(Tests.Images.Cli.MoatProcess.Binary) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--root", store.Moat.Root, "events", "--filter", "event=start" }) start.ArgumentList.Add(a);
            using var events = Process.Start(start)!;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                var line = await events.StandardOutput.ReadLineAsync(deadline.Token);
                Assert.NotNull(line);
                Assert.Contains("container start ", line);
                Assert.Contains("image=localhost/busybox", line);
            }
            finally
            {
                events.Kill();
                await events.WaitForExitAsync();
            }
        }
        finally
        {
            seen.Cancel();
            await runner;
        }
    }

    [Fact]
    public void RestartGivesTheContainerANewInit()
    {
        store.Ok("run", "-d", "--name", "again", "busybox", "sleep", "1000");
        try
        {
            var before = store.Inspect("again").GetProperty("State").GetProperty("Pid").GetInt32();
            store.Ok("restart", "-t", "0", "again");
            var state = store.Inspect("again").GetProperty("State");
            Assert.True(state.GetProperty("Running").GetBoolean());
            var after = state.GetProperty("Pid").GetInt32();
            Assert.NotEqual(before, after);
            Assert.False(ContainerStore.IsAlive(before), "the first init still runs");
            ContainerStore.Eventually(() => File.ReadAllText($"/proc/{after}/cmdline").Contains("sleep"), "the new init to exec sleep");
            Assert.Contains("sleep", store.Ok("exec", "again", "cat", "/proc/1/cmdline"));
        }
        finally
        {
            store.Run("rm", "-f", "again");
        }
    }

    [Fact]
    public void RmDashVRemovesTheAnonymousVolumesOnly()
    {
        store.Ok("run", "-d", "--name", "anon", "-v", "/scratch", "-v", "named-kept:/named", "busybox", "sleep", "1000");
        store.Ok("run", "-d", "--name", "anon-kept", "-v", "/scratch", "busybox", "sleep", "1000");
        try
        {
            string VolumeOf(string container, string destination) => store.Inspect(container).GetProperty("Mounts").EnumerateArray()
                .Single(m => m.GetProperty("Destination").GetString() == destination).GetProperty("Name").GetString()!;
            var anonymous = VolumeOf("anon", "/scratch");
            var kept = VolumeOf("anon-kept", "/scratch");
            store.Ok("exec", "anon", "sh", "-c", "echo x > /scratch/file");
            var volumes = Path.Combine(store.Moat.Root, "volumes");
            Assert.True(File.Exists(Path.Combine(volumes, anonymous, "_data", "file")));

            store.Ok("rm", "-f", "-v", "anon");
            Assert.False(Directory.Exists(Path.Combine(volumes, anonymous)), "rm -v left the anonymous volume");
            Assert.True(Directory.Exists(Path.Combine(volumes, "named-kept")), "rm -v removed a named volume");
            store.Ok("rm", "-f", "anon-kept");
            Assert.True(Directory.Exists(Path.Combine(volumes, kept)), "rm without -v removed the anonymous volume");
        }
        finally
        {
            store.Run("rm", "-f", "anon", "anon-kept");
        }
    }

    [Fact]
    public async Task ExecInteractiveWithATerminalThroughARealPty()
    {
        store.Ok("run", "-d", "--name", "execpty", "busybox", "sleep", "1000");
        try
        {
            var moat = $"{Tests.Images.Cli.MoatProcess.Binary} --root {store.Moat.Root} exec -it execpty sh -c 'tty; stty size; read line; echo got $line; exit 6'";
            var start = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in new[] { "-qec", $"stty rows 21 cols 77; {moat}", "/dev/null" }) start.ArgumentList.Add(a);
            using var script = Process.Start(start)!;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await script.StandardInput.WriteAsync("typed\n");
            await script.StandardInput.FlushAsync();
            var output = await script.StandardOutput.ReadToEndAsync(deadline.Token);
            await script.WaitForExitAsync(deadline.Token);
            Assert.Contains("/dev/pts/", output);
            Assert.Contains("21 77", output);
            Assert.Contains("got typed", output);
            Assert.Equal(6, script.ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "execpty");
        }
    }

    /// <summary>A cgroup file of the process: the v1 controller's hierarchy, else the v2 one.</summary>
    static string CgroupFile(int pid, string controller, string v1File, string v2File)
    {
        foreach (var line in File.ReadAllLines($"/proc/{pid}/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts[1].Split(',').Contains(controller))
                return File.ReadAllText($"/sys/fs/cgroup/{parts[1]}{parts[2]}/{v1File}").Trim();
        }
        var unified = File.ReadAllLines($"/proc/{pid}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
        return File.ReadAllText($"/sys/fs/cgroup{unified}/{v2File}").Trim();
    }
}
