using System.Text.Json.Nodes;
using Moat.Monitor;
using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>
/// start and delete --force of the moat-runtime beside the monitor run in the monitor's process; any
/// other runtime still gets them exec'd. Observed through hooks: a poststart hook is started by whatever
/// runs start, a poststop hook by whatever runs delete, so their parent pid tells the two apart.
/// </summary>
public sealed class InProcessRuntimeTests : IDisposable
{
    readonly string outputs = Directory.CreateTempSubdirectory("moat-inproc-test-").FullName;

    public void Dispose() => Directory.Delete(outputs, recursive: true);

    static string OwnRuntime => Path.Combine(Path.GetDirectoryName(Paths.Monitor)!, InProcessRuntime.RuntimeName);

    /// <summary>poststart hooks that record their parent, their signal dispositions, and one that fails with status 3; a poststop hook that records its parent.</summary>
    Action<JsonNode> Hooks => spec =>
    {
        JsonNode Hook(string script) => new JsonObject { ["path"] = "/bin/sh", ["args"] = new JsonArray("sh", "-c", script) };
        spec["hooks"] = new JsonObject
        {
            ["poststart"] = new JsonArray(
                Hook($"echo $PPID > {outputs}/poststart.ppid; grep -E '^Sig(Ign|Blk):' /proc/self/status > {outputs}/poststart.signals"),
                Hook("exit 3")),
            ["poststop"] = new JsonArray(Hook($"echo $PPID > {outputs}/poststop.ppid")),
        };
    };

    int Read(string name) => int.Parse(File.ReadAllText(Path.Combine(outputs, name)).Trim());

    [Fact]
    public void OwnRuntimeStartsAndDeletesInTheMonitorAndItsHooksRunAsFromTheExecdRuntime()
    {
        using var container = new MonitoredContainer(["true"], c => c with { Runtime = OwnRuntime }, Hooks);
        container.Create();
        var monitor = container.Status!.MonitorPid;
        using (var client = container.AttachAndStart())
            Assert.Equal(0, MonitoredContainer.ReadUntilExit(client).ExitCode);
        container.WaitForMonitorExit();
        Assert.Null(container.RuntimeStatus()); // deleted

        Assert.Equal(monitor, Read("poststart.ppid"));
        Assert.Equal(monitor, Read("poststop.ppid"));
        // The monitor ignores SIGPIPE, SIGHUP and SIGINT; a hook starts with every signal at its default, none blocked.
        Assert.Equal(["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"],
            File.ReadAllLines(Path.Combine(outputs, "poststart.signals")).Order(StringComparer.Ordinal));
        // The failing hook's status reached the runtime (the monitor's reaping did not take it) and is a warning in the monitor's log.
        Assert.Contains("runtime start: warning: poststart hook #1 (/bin/sh) failed: exited with status 3", container.MonitorLog);
        Assert.DoesNotContain("poststop", container.MonitorLog);
    }

    [Fact]
    public void AContainerAnotherTierMadeIsHandedToTheExecdRuntime()
    {
        // The annotation makes moat-runtime hand create over to moat-runtime-tiers; the state then records
        // the sandbox tier, which the monitor's in-process API does not carry: start and delete go to the executable.
        using var container = new MonitoredContainer(["true"], c => c with { Runtime = OwnRuntime }, spec =>
        {
            Hooks(spec);
            spec["annotations"] = new JsonObject { ["run.moat.isolation"] = "sandbox" };
        });
        container.Create();
        var monitor = container.Status!.MonitorPid;
        using (var client = container.AttachAndStart())
            Assert.Equal(0, MonitoredContainer.ReadUntilExit(client).ExitCode);
        container.WaitForMonitorExit();
        Assert.Null(container.RuntimeStatus());
        Assert.NotEqual(monitor, Read("poststart.ppid"));
        Assert.NotEqual(monitor, Read("poststop.ppid"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFailedStartGivesTheSameSentenceInProcessAsExecd(bool execd)
    {
        var runtime = execd ? Wrapper() : OwnRuntime;
        using var container = new MonitoredContainer(["true"], c => c with { Runtime = runtime });
        container.Create();
        // Without its exec.fifo the runtime takes the container for a running one (the init stays blocked
        // in its open of the fifo, the monitor with it): start refuses.
        File.Delete(Path.Combine(container.RuntimeRoot, container.Id, "exec.fifo"));
        using var client = container.Attach();
        client.Send(AttachFrames.Start);
        var answer = client.Receive(TimeSpan.FromSeconds(30))!.Value;
        Assert.Equal(AttachFrames.Error, answer.Type);
        Assert.Equal("cannot start an already running container", System.Text.Encoding.UTF8.GetString(answer.Payload));
        Assert.Equal(execd, File.Exists(Path.Combine(outputs, "verbs")) && File.ReadAllText(Path.Combine(outputs, "verbs")).Contains(" start "));
    }

    /// <summary>A runtime that records its arguments in the file verbs and runs the very same moat-runtime: not the monitor's own.</summary>
    string Wrapper()
    {
        var wrapper = Path.Combine(outputs, "wrapper");
        File.WriteAllText(wrapper, $"#!/bin/sh\necho \"$@\" >> {outputs}/verbs\nexec {OwnRuntime} \"$@\"\n");
        File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
        return wrapper;
    }

    [Fact]
    public void AForeignRuntimeStillGetsStartAndDeleteExecd()
    {
        // A wrapper around the very same moat-runtime is not the monitor's own: it must see every verb.
        var wrapper = Wrapper();
        using var container = new MonitoredContainer(["true"], c => c with { Runtime = wrapper }, Hooks);
        container.Create();
        var monitor = container.Status!.MonitorPid;
        using (var client = container.AttachAndStart())
            Assert.Equal(0, MonitoredContainer.ReadUntilExit(client).ExitCode);
        container.WaitForMonitorExit();

        var verbs = File.ReadAllLines(Path.Combine(outputs, "verbs")).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(["create", "start", "delete"], verbs);
        Assert.Contains($"--root {container.RuntimeRoot} delete --force {container.Id}", File.ReadAllText(Path.Combine(outputs, "verbs")));
        Assert.NotEqual(monitor, Read("poststart.ppid"));
        Assert.NotEqual(monitor, Read("poststop.ppid"));
    }

    [Theory]
    [InlineData(new[] { "--root", "/run/x" }, "/run/x")]
    [InlineData(new[] { "--root=/run/y", "--isolation", "container" }, "/run/y")]
    [InlineData(new[] { "--root", "/run/x", "--isolation", "sandbox" }, null)]
    [InlineData(new[] { "--isolation=vm" }, null)]
    [InlineData(new[] { "--root", "/run/x", "--systemd-cgroup" }, null)]
    [InlineData(new[] { "--log", "/tmp/log", "--root", "/run/x" }, null)]
    [InlineData(new[] { "--debug" }, null)]
    [InlineData(new[] { "--root" }, null)]
    public void OnlyFlagsTheApiHonoursKeepTheVerbsInProcess(string[] args, string? root) =>
        Assert.Equal(root, InProcessRuntime.RootOf(args));

    [Fact]
    public void OnlyTheRuntimeBesideTheMonitorIsCalledInProcess()
    {
        var log = new MonitorLog(Path.Combine(outputs, "monitor.log"));
        var bin = Path.GetDirectoryName(Paths.Monitor)!;
        MonitorConfig Config(string runtime) => new() { Id = "x", Runtime = runtime, RuntimeArgs = ["--root", "/run/x"], Bundle = "/b" };
        Assert.NotNull(InProcessRuntime.For(Config(OwnRuntime), Paths.Monitor, log));
        Assert.Null(InProcessRuntime.For(Config(Path.Combine(bin, "moat-runtime-sandbox")), Paths.Monitor, log));
        Assert.Null(InProcessRuntime.For(Config(Path.Combine(bin, "moat-runtime-vm")), Paths.Monitor, log));
        Assert.Null(InProcessRuntime.For(Config("/usr/bin/runc"), Paths.Monitor, log));
        // A monitor elsewhere has no moat-runtime beside it.
        Assert.Null(InProcessRuntime.For(Config(OwnRuntime), Path.Combine(outputs, "moat-monitor"), log));
    }
}
