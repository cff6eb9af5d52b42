using System.Diagnostics;
using System.Text.Json;

namespace Moat.Tests.Vm;

/// <summary>
/// The vm tier end to end, as root, with the real bin/moat-runtime booting Debian's kernel under QEMU
/// (TCG here: each boot costs 10-30 s, so four boots in all). One container's whole life is one
/// test (create, start, stdio, exec, 40 short execs at once, a signal, an OOM kill inside, QEMU
/// killed, delete); `run` is another; a terminal through --console-socket (with an exec -t into the
/// same VM) the third; `run` on the caller's own terminal (with an exec -t from another) the fourth.
/// </summary>
public sealed class VmTierTests : IDisposable
{
    static readonly string Repo = FindRepo();
    static readonly string Binary = Path.Combine(Repo, "bin/moat-runtime");
    readonly string work = Directory.CreateTempSubdirectory("moat-vm-test-").FullName;
    string StateRoot => Path.Combine(work, "state");
    readonly List<string> ids = [];

    static string FindRepo()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Moat.slnx")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("cannot find the repository (Moat.slnx)");
    }

    /// <summary>
    /// The vm tier's data directory with the guest kernel in it: scripts/vm/kernel.sh unpacks the one
    /// Debian kernel of the checkout (the cgroup v2 lane's too) where the tier looks, fetched once per
    /// machine; the tier finds it there without MOAT_VM_KERNEL. The initramfs is kept there too, one per binary.
    /// </summary>
    static readonly Lazy<string> Data = new(() =>
    {
        var (status, output, error) = Shell($"'{Repo}/scripts/vm/kernel.sh'", TimeSpan.FromMinutes(10));
        Assert.True(status == 0, $"scripts/vm/kernel.sh failed: {error}");
        var data = Path.Combine(Repo, ".build/vm/data");
        Assert.StartsWith(Path.Combine(data, "kernel"), output.Trim());
        return data;
    });

    /// <summary>MOAT_VM_DIR for every VM test class.</summary>
    public static string DataDirectory => Data.Value;

    static (int Status, string Stdout, string Stderr) Shell(string command, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            start.Environment[k] = v;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish in {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    Dictionary<string, string> Env() => new()
    {
        ["MOAT_VM_DIR"] = Data.Value,
    };

    string Moat(string args) => $"'{Binary}' --root '{StateRoot}' --isolation vm {args}";

    (int Status, string Stdout, string Stderr) Run(string args, string redirections = "</dev/null") =>
        Shell($"{Moat(args)} {redirections}", TimeSpan.FromMinutes(5), Env());

    string Bundle(string name, string[] args, long? memoryLimit = null, string? hooksDirectory = null, (int Rows, int Columns)? terminal = null, int? cpus = null, bool terminalWithoutSize = false)
    {
        var bundle = Path.Combine(work, name);
        var (status, _, error) = Shell($"MOAT='{Binary}' '{Repo}/scripts/make-bundle.sh' '{bundle}'", TimeSpan.FromMinutes(1));
        Assert.True(status == 0, error);
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonDocument.Parse(File.ReadAllText(configPath)).RootElement;
        var json = System.Text.Json.Nodes.JsonNode.Parse(config.GetRawText())!;
        json["process"]!["args"] = new System.Text.Json.Nodes.JsonArray(args.Select(a => (System.Text.Json.Nodes.JsonNode?)a).ToArray());
        if (memoryLimit is { } limit)
        {
            json["linux"]!["resources"] ??= new System.Text.Json.Nodes.JsonObject();
            json["linux"]!["resources"]!["memory"] = new System.Text.Json.Nodes.JsonObject { ["limit"] = limit };
        }
        if (cpus is { } count)
        {
            json["linux"]!["resources"] ??= new System.Text.Json.Nodes.JsonObject();
            json["linux"]!["resources"]!["cpu"] = new System.Text.Json.Nodes.JsonObject { ["quota"] = count * 100_000, ["period"] = 100_000 };
        }
        if (terminal is { } size)
        {
            json["process"]!["terminal"] = true;
            json["process"]!["consoleSize"] = new System.Text.Json.Nodes.JsonObject { ["height"] = size.Rows, ["width"] = size.Columns };
        }
        if (terminalWithoutSize)
            json["process"]!["terminal"] = true;
        if (hooksDirectory is not null)
        {
            // Each hook keeps the state it was given on stdin in hooksDirectory/KIND.json.
            var hooks = new System.Text.Json.Nodes.JsonObject();
            foreach (var kind in new[] { "prestart", "createRuntime", "poststart", "poststop" })
                hooks[kind] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
                {
                    ["path"] = "/bin/sh",
                    ["args"] = new System.Text.Json.Nodes.JsonArray("sh", "-c", $"cat > '{hooksDirectory}/{kind}.json'"),
                });
            json["hooks"] = hooks;
        }
        File.WriteAllText(configPath, json.ToJsonString());
        return bundle;
    }

    string NewId(string name)
    {
        var id = $"{name}-{Environment.ProcessId}";
        ids.Add(id);
        return id;
    }

    static string HostKernelRelease() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    static string WaitForFile(string path, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && File.ReadAllText(path) is var content && content.Contains(text))
                return content;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"{path} never contained \"{text}\": {(File.Exists(path) ? File.ReadAllText(path) : "(missing)")}");
    }

    JsonElement State(string id)
    {
        var (status, stdout, stderr) = Run($"state {id}");
        Assert.True(status == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement;
    }

    [Fact]
    public void AContainersLifeInItsOwnVirtualMachine()
    {
        var hooks = Directory.CreateDirectory(Path.Combine(work, "hooks")).FullName;
        // Two vCPUs (a CPU quota of 2): with one, the agent's threads never ran side by side, and
        // an exec's output overtaking its reply (the flood below) did not show in 100 execs.
        var bundle = Bundle("life", ["sh", "-c", "read line; echo got:$line; uname -r; exec sleep 100000"], memoryLimit: 48L << 20, hooksDirectory: hooks, cpus: 2);
        var id = NewId("life");
        var input = Path.Combine(work, "life.in");
        var output = Path.Combine(work, "life.out");
        File.WriteAllText(input, "hello\n");

        // create and start as separate commands: the VM and its shim outlive create.
        var create = Run($"create --bundle '{bundle}' {id}", $"<'{input}' >'{output}' 2>'{output}.err'");
        Assert.True(create.Status == 0, File.ReadAllText(output + ".err"));
        Assert.Equal("created", State(id).GetProperty("status").GetString());
        // prestart and createRuntime ran on the host during create, with the state of a container being created (pid: the shim's).
        var shimPid = State(id).GetProperty("pid").GetInt32();
        Assert.Contains("vm-shim", File.ReadAllText($"/proc/{shimPid}/cmdline"));
        foreach (var kind in new[] { "prestart", "createRuntime" })
        {
            var hookState = JsonDocument.Parse(File.ReadAllText(Path.Combine(hooks, kind + ".json"))).RootElement;
            Assert.Equal(("creating", shimPid, id), (hookState.GetProperty("status").GetString(), hookState.GetProperty("pid").GetInt32(), hookState.GetProperty("id").GetString()));
        }
        Assert.False(File.Exists(Path.Combine(hooks, "poststart.json")));
        Assert.Equal(0, Run($"start {id}").Status);
        Assert.Equal("running", JsonDocument.Parse(File.ReadAllText(Path.Combine(hooks, "poststart.json"))).RootElement.GetProperty("status").GetString());

        // stdin reached the guest and stdout came back; the guest runs its own kernel.
        var text = WaitForFile(output, "\n" + "6.");
        Assert.Contains("got:hello", text);
        var guestRelease = text.Split('\n').Select(l => l.Trim()).First(l => l.Length > 0 && char.IsDigit(l[0]));
        Assert.NotEqual(HostKernelRelease(), guestRelease);
        Assert.Equal("running", State(id).GetProperty("status").GetString());

        // pause freezes the container in the guest, and state says so, as for the container tier.
        Assert.Equal(0, Run($"pause {id}").Status);
        Assert.Equal("paused", State(id).GetProperty("status").GetString());
        Assert.NotEqual(0, Run($"pause {id}").Status);
        Assert.Equal(0, Run($"resume {id}").Status);
        Assert.Equal("running", State(id).GetProperty("status").GetString());

        // exec: its exit status and its own stdin and stdout.
        var exec = Run($"exec {id} sh -c 'echo exec-ok; exit 3'");
        Assert.Equal((3, "exec-ok\n"), (exec.Status, exec.Stdout));
        var cat = Shell($"echo round-trip | {Moat($"exec {id} cat")}", TimeSpan.FromMinutes(2), Env());
        Assert.Equal((0, "round-trip\n"), (cat.Status, cat.Stdout));

        // The CPU quota became the VM's vCPU count.
        var nproc = Run($"exec {id} nproc");
        Assert.Equal((0, "2\n"), (nproc.Status, nproc.Stdout));
        EveryShortExecsOutputArrives(id);

        // A signal to the exec command reaches its process in the guest.
        var trapOut = Path.Combine(work, "trap.out");
        var trap = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"exec {Moat($"exec {id} sh -c 'trap \"exit 42\" TERM; echo ready; while :; do sleep 0.1; done'")} </dev/null >'{trapOut}'"])
        {
            Environment = { ["MOAT_VM_DIR"] = Data.Value },
        })!;
        WaitForFile(trapOut, "ready");
        Assert.Equal(0, Shell($"kill -TERM {trap.Id}", TimeSpan.FromSeconds(10)).Status);
        Assert.True(trap.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(42, trap.ExitCode);

        // The memory limit is the guest's cgroup's: a process that outgrows it is OOM-killed inside, 137 outside.
        var oom = Run($"exec {id} sh -c 'cat /sys/fs/cgroup/memory.max; x=$(head -c 96m /dev/zero | tr \"\\\\0\" a); echo survived'");
        Assert.Equal(137, oom.Status);
        Assert.Contains(((48L << 20)).ToString(), oom.Stdout);
        Assert.DoesNotContain("survived", oom.Stdout);

        // QEMU killed behind the runtime's back: the container is stopped, and delete cleans up.
        var qemu = int.Parse(File.ReadAllText(Path.Combine(StateRoot, id, "qemu")).Split(' ')[0]);
        Assert.Contains("qemu-system", File.ReadAllText($"/proc/{qemu}/cmdline"));
        Assert.Equal(0, Shell($"kill -KILL {qemu}", TimeSpan.FromSeconds(10)).Status);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (State(id).GetProperty("status").GetString() != "stopped" && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        Assert.Equal("stopped", State(id).GetProperty("status").GetString());
        var delete = Run($"delete {id}");
        Assert.True(delete.Status == 0, delete.Stderr);
        Assert.False(Directory.Exists(Path.Combine(StateRoot, id)));
        Assert.Empty(ProcessesMentioning(Path.Combine(StateRoot, id)));
        Assert.Equal("stopped", JsonDocument.Parse(File.ReadAllText(Path.Combine(hooks, "poststop.json"))).RootElement.GetProperty("status").GetString());
    }

    /// <summary>
    /// Many execs that print at once and exit, a few at a time, in the running VM: each one's output
    /// and status must come back. The output is written while the guest is still answering the
    /// exec, and the exit follows it at once, so a relay that loses frames sent before the host
    /// registered the exec's stream, or that acts on the exit before the output, fails here.
    /// </summary>
    void EveryShortExecsOutputArrives(string id)
    {
        const int Execs = 40;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, Execs, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            try
            {
                var (status, stdout, stderr) = Shell($"{Moat($"exec {id} sh -c 'echo out-{i}; exit {i % 5}'")} </dev/null", TimeSpan.FromMinutes(2), Env());
                if ((status, stdout) != (i % 5, $"out-{i}\n"))
                    failures.Add($"exec {i}: status {status}, stdout \"{stdout}\", stderr \"{stderr.Trim()}\"");
            }
            catch (TimeoutException)
            {
                failures.Add($"exec {i}: never exited");
            }
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {Execs} execs lost their output or status:\n{string.Join("\n", failures.Order())}");
    }

    [Fact]
    public void RunGivesTheContainersStdoutAndExitStatus()
    {
        var bundle = Bundle("run", ["sh", "-c", "echo from-the-guest; exit 7"]);
        var id = NewId("run");
        var run = Run($"run --bundle '{bundle}' {id}");
        Assert.Equal(7, run.Status);
        Assert.Equal("from-the-guest\n", run.Stdout);
        Assert.False(Directory.Exists(Path.Combine(StateRoot, id)));
    }

    /// <summary>
    /// process.terminal with --console-socket, as an engine runs `-t`: the pty master comes to the
    /// caller's socket; the guest's terminal starts at process.consoleSize, follows the caller's
    /// resizes (each one before the input typed after it), relays output, and the shell's exit
    /// status is run's. An `exec -t` into the same VM gets a pty of its own, which the caller sizes
    /// only once it has it (the guest's pty starts at 0x0 or the inherited consoleSize).
    /// </summary>
    [Fact]
    public void ATerminalThroughTheConsoleSocket()
    {
        var bundle = Bundle("tty", ["sh"], terminal: (30, 100));
        var id = NewId("tty");
        using var containerSocket = new ConsoleSocketPeer(Path.Combine(work, "c.sock"));
        var runErrors = Path.Combine(work, "tty-run.err");
        using var run = StartCommand($"run --console-socket '{containerSocket.Path}' --bundle '{bundle}' {id}", runErrors);
        using var terminal = containerSocket.Receive(run, runErrors);

        // The host's pty has the config's size, and so has the guest's, before any resize.
        Assert.Equal((30, 100), ((int)terminal.Size!.Value.Rows, (int)terminal.Size!.Value.Columns));
        terminal.Type("echo size:$(stty size) tty:$(tty)\n");
        terminal.WaitFor("size:30 100 tty:/dev/pts/0");
        terminal.Resize(40, 120);
        terminal.Type("echo size:$(stty size)\n");
        terminal.WaitFor("size:40 120");

        var execSocket = new ConsoleSocketPeer(Path.Combine(work, "e.sock"));
        var execErrors = Path.Combine(work, "tty-exec.err");
        using (execSocket)
        using (var exec = StartCommand($"exec -t --console-socket '{execSocket.Path}' {id} sh", execErrors))
        using (var execTerminal = execSocket.Receive(exec, execErrors))
        {
            execTerminal.Resize(25, 90);
            execTerminal.Type("echo size:$(stty size) tty:$(tty); exit 3\n");
            execTerminal.WaitFor("size:25 90 tty:/dev/pts/");
            Assert.True(exec.WaitForExit(TimeSpan.FromMinutes(2)), "exec -t did not exit");
            Assert.True(exec.ExitCode == 3, $"exec -t: status {exec.ExitCode}: {File.ReadAllText(execErrors)}");
            execTerminal.WaitForEnd();
        }
        // The container's terminal was not resized by the exec's.
        terminal.Type("echo after-exec:$(stty size); exit 5\n");
        terminal.WaitFor("after-exec:40 120");
        Assert.True(run.WaitForExit(TimeSpan.FromMinutes(2)), "run did not exit");
        Assert.True(run.ExitCode == 5, $"run: status {run.ExitCode}: {File.ReadAllText(runErrors)}");
        terminal.WaitForEnd();
        Assert.False(Directory.Exists(Path.Combine(StateRoot, id)));
    }

    /// <summary>
    /// process.terminal without --console-socket, as runc runs it: `run` in the foreground puts the
    /// guest's process on the caller's own terminal (a pty the test types at): a tty from its first
    /// instruction at the caller's window size, the caller's typing, its resizes, and the exit
    /// status as run's; an `exec -t` from a second terminal gets a pty of its own at that terminal's
    /// size. create and run -d refuse such a bundle before anything boots, as runc and the container
    /// tier do: nobody would get the terminal.
    /// </summary>
    [Fact]
    public void ATerminalOnTheCallersOwnTerminal()
    {
        var bundle = Bundle("own-tty", ["sh", "-c", "echo first:$(stty size) tty:$(tty); exec sh"], terminalWithoutSize: true);
        var id = NewId("own-tty");
        foreach (var detached in new[] { "create", "run -d" })
        {
            var refused = Run($"{detached} --bundle '{bundle}' {id}");
            Assert.True(refused.Status != 0 && refused.Stderr.Contains("needs --console-socket"), $"{detached}: status {refused.Status}: {refused.Stderr}");
            Assert.False(Directory.Exists(Path.Combine(StateRoot, id)));
        }

        using var caller = CallersTerminal.Start(Moat($"run --bundle '{bundle}' {id}"), Env(), 33, 111);
        caller.Screen.WaitFor("first:33 111 tty:/dev/pts/0");
        caller.Screen.Type("echo typed:$((6*7))\n");
        caller.Screen.WaitFor("typed:42");
        // A resize reaches the guest as a SIGWINCH relayed: the shell waits for it (no timing).
        caller.Resize(40, 120);
        caller.Screen.Type("while [ \"$(stty size)\" != '40 120' ]; do sleep 0.1; done; echo resized:$(stty size)\n");
        caller.Screen.WaitFor("resized:40 120");

        using (var second = CallersTerminal.Start(Moat($"exec -t {id} sh -c 'echo exec:$(stty size) tty:$(tty); read line; echo got:$line; exit 3'"), Env(), 20, 70))
        {
            second.Screen.WaitFor("exec:20 70 tty:/dev/pts/");
            second.Screen.Type("hello\n");
            second.Screen.WaitFor("got:hello");
            Assert.True(second.WaitForExit() is var execStatus && execStatus == 3, $"exec -t: status {execStatus}: {second.Screen.Text}");
            second.Screen.WaitForEnd();
        }

        caller.Screen.Type("echo after-exec:$(stty size); exit 5\n");
        caller.Screen.WaitFor("after-exec:40 120");
        Assert.True(caller.WaitForExit() is var status && status == 5, $"run: status {status}: {caller.Screen.Text}");
        caller.Screen.WaitForEnd();
        Assert.False(Directory.Exists(Path.Combine(StateRoot, id)));
    }

    /// <summary>A runtime command left running (stdin /dev/null, stdout discarded, stderr to a file); the caller waits for it.</summary>
    Process StartCommand(string args, string errors) =>
        Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"exec {Moat(args)} </dev/null >/dev/null 2>'{errors}'"])
        {
            Environment = { ["MOAT_VM_DIR"] = Data.Value },
        })!;

    /// <summary>Processes whose command line names the path (QEMU's sockets and shares, the shim's directory).</summary>
    static List<int> ProcessesMentioning(string path)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != Environment.ProcessId)
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(path))
                        found.Add(pid);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
        return found;
    }

    public void Dispose()
    {
        foreach (var id in ids)
            try
            {
                Run($"delete --force {id}");
            }
            catch (Exception)
            {
            }
        // Whatever a failed test left: every QEMU and shim of this test's state root.
        foreach (var pid in ProcessesMentioning(StateRoot))
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (Exception)
            {
            }
        Directory.Delete(work, recursive: true);
    }
}
