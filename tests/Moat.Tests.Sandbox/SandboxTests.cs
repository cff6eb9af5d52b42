using System.Text.Json;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Sandbox;

/// <summary>Sandboxed containers under the real bin/moat-runtime (root): the broker, the allow-list, the supervisor's hold.</summary>
[Collection("sandbox")]
public sealed class SandboxTests(SandboxFixture fixture)
{
    static JsonElement Parse(string line) => JsonDocument.Parse(line).RootElement;

    static IEnumerable<JsonElement> For(string[] refusals, string call) =>
        refusals.Select(Parse).Where(r => r.GetProperty("call").GetString() == call);

    [Fact]
    public void BusyboxToolsRunForksWorkAndTheExitStatusPassesThrough()
    {
        var result = fixture.Run("ls /bin >/dev/null && for i in 1 2 3 4 5; do echo $i | cat | wc -l; done | sort | uniq -c | tr -s ' ' && echo hi > /tmp/x && cat /tmp/x && grep -c root /etc/passwd && exit 7");
        Assert.Equal(7, result.ExitCode);
        Assert.Contains("5 1", result.Stdout);
        Assert.Contains("hi", result.Stdout);
    }

    [Fact]
    public void TheDefaultPolicyLetsAnImageRunAndKeepsWritesToItsOwnStorage()
    {
        var result = fixture.Run("cat /etc/passwd >/dev/null && echo x > /tmp/t && cat /tmp/t && (echo y > /etc/t || echo no-etc) | cat", "--isolation", "sandbox");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("x", result.Stdout);
        Assert.Contains("no-etc", result.Stdout);
    }

    [Fact]
    public void ASignalEndsTheWorkloadAsItWouldAnywhere()
    {
        // A child killed by SIGTERM (default action), then pid 1 itself through its handler.
        var result = fixture.Run("sh -c 'kill -TERM $$; sleep 5'; echo child=$?; trap 'exit 42' TERM; kill -TERM $$; sleep 5");
        Assert.Contains("child=143", result.Stdout);
        Assert.Equal(42, result.ExitCode);
    }

    [Fact]
    public void OpensFollowThePolicyAndEveryRefusalIsLogged()
    {
        var (output, refusals) = fixture.RunLogged(
            "echo ok > /tmp/w && cat /tmp/w; cat /secret/data || echo no-secret; cat /etc/hidden || echo no-hidden; " +
            "echo x > /etc/passwd || echo no-write; ln -s /secret/data /tmp/l; cat /tmp/l || echo no-link");
        Assert.Contains("ok", output);
        Assert.Contains("no-secret", output);
        Assert.Contains("no-hidden", output);
        Assert.Contains("no-write", output);
        Assert.Contains("no-link", output);
        Assert.DoesNotContain("SECRET", output);
        Assert.DoesNotContain("HIDDEN", output);
        var opens = For(refusals, "openat").ToList();
        Assert.Contains(opens, r => r.GetProperty("arguments").GetProperty("resolved").GetString() == "/secret/data" && r.GetProperty("rule").GetString()!.StartsWith("readable"));
        Assert.Contains(opens, r => r.GetProperty("rule").GetString() == "hidden: /etc/hidden");
        Assert.Contains(opens, r => r.GetProperty("arguments").GetProperty("path").GetString() == "/etc/passwd" && r.GetProperty("rule").GetString()!.StartsWith("writable"));
        var first = opens[0];
        foreach (var field in new[] { "time", "container", "pid", "call", "arguments", "rule" })
            Assert.True(first.TryGetProperty(field, out _), $"a refusal has {field}");
    }

    [Fact]
    public void AnOpenGetsExactlyTheStatusFlagsItAskedFor()
    {
        var (output, _) = fixture.RunLogged("open-flags");
        Assert.Contains("read=r cloexec=0\n", output);
        Assert.Contains("nonblock=r nonblock cloexec=1\n", output);
        Assert.Contains("append=w append cloexec=0\n", output); // made by the full way (a new name)
        Assert.Contains("again=rw cloexec=0\n", output);        // the same name, existing now
        Assert.Contains("directory=r cloexec=0\n", output);
    }

    [Fact]
    public void AnOpenWalksWithTheCallersSearchRights()
    {
        // /tmp/priv: 0700, owned by 1000. Its owner may open a file in it, another user may not (EACCES,
        // the kernel's answer, not the policy's: nothing is logged), root may through its capability in
        // its namespace (given here, and set*id for the probe: the default spec has neither). One process
        // after the other, so the supervisor's thread switches between callers' ids and back; a public
        // file stays open to all.
        var caps = fixture.Bundle.Spec.Process!.Capabilities!;
        var saved = (caps.Bounding, caps.Effective, caps.Permitted);
        List<string> With(List<string>? list) => [.. list ?? [], "CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID"];
        (caps.Bounding, caps.Effective, caps.Permitted) = (With(caps.Bounding), With(caps.Effective), With(caps.Permitted));
        string output;
        string[] refusals;
        try
        {
            (output, refusals) = fixture.RunLogged(
                "mkdir /tmp/priv && echo private > /tmp/priv/f && echo public > /tmp/pub && chmod 644 /tmp/priv/f /tmp/pub && " +
                "chown -R 1000:1000 /tmp/priv && chmod 700 /tmp/priv && cat /tmp/priv/f && " +
                "open-as 1001 /tmp/priv/f /tmp/pub && open-as 1000 /tmp/priv/f /tmp/pub && cat /tmp/priv/f /tmp/pub && " +
                "open-as 1001 /tmp/priv/f && echo done");
        }
        finally
        {
            (caps.Bounding, caps.Effective, caps.Permitted) = saved;
        }
        Assert.Contains("done", output);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(output, "open /tmp/priv/f=13\n"));
        Assert.Contains("open /tmp/priv/f=0\n", output);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(output, "open /tmp/pub=0\n"));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(output, "private\n"));
        Assert.Empty(For(refusals, "openat"));
    }

    [Fact]
    public void ThePathChangingCallsAreBrokeredBothWays()
    {
        var (output, refusals) = fixture.RunLogged(
            "cd /tmp && mkdir d && mv d e && rmdir e && touch f && chmod 600 f && chown 0:0 f && truncate -s 3 f && ln f g && ln -s f h && mkfifo p && rm f g h p && echo allowed-ok; " +
            "mkdir /etc/x 2>/dev/null || echo mkdir-refused; rm /etc/passwd 2>/dev/null || echo unlink-refused; " +
            "mv /etc/passwd /tmp/p 2>/dev/null || echo rename-refused; ln /etc/passwd /tmp/q 2>/dev/null || echo link-refused; " +
            "ln -s x /etc/s 2>/dev/null || echo symlink-refused; chmod 777 /etc/passwd 2>/dev/null || echo chmod-refused; " +
            "chown 1 /etc/passwd 2>/dev/null || echo chown-refused; truncate -s 0 /etc/passwd 2>/dev/null || echo truncate-refused");
        Assert.Contains("allowed-ok", output);
        foreach (var call in new[] { "mkdir", "unlink", "rename", "link", "symlink", "chmod", "chown", "truncate" })
            Assert.Contains($"{call}-refused", output);
        var calls = refusals.Select(r => Parse(r).GetProperty("call").GetString()).ToHashSet();
        Assert.Contains(calls, c => c is "mkdir" or "mkdirat");
        Assert.Contains(calls, c => c is "unlink" or "unlinkat");
        Assert.Contains(calls, c => c is "rename" or "renameat" or "renameat2");
        Assert.Contains(calls, c => c is "symlink" or "symlinkat");
        Assert.Contains(calls, c => c is "chmod" or "fchmodat" or "fchmodat2");
        Assert.Contains(calls, c => c is "chown" or "lchown" or "fchownat");
        Assert.Contains(calls, c => c is "link" or "linkat");
    }

    [Fact]
    public void ConnectAndBindFollowThePolicy()
    {
        var (output, refusals) = fixture.RunLogged(
            "(nc -l -p 8080 > /tmp/got &) ; sleep 0.3; echo hello | nc -w 1 127.0.0.1 8080 && echo connect-ok; sleep 0.2; cat /tmp/got; " +
            "nc -l -p 9000 2>/dev/null || echo bind-refused; echo x | nc -w 1 127.0.0.1 8081 2>/dev/null || echo connect-refused");
        Assert.Contains("connect-ok", output);
        Assert.Contains("hello", output);
        Assert.Contains("bind-refused", output);
        Assert.Contains("connect-refused", output);
        Assert.Contains(For(refusals, "bind"), r => r.GetProperty("arguments").GetProperty("address").GetString()!.EndsWith(":9000"));
        Assert.Contains(For(refusals, "connect"), r => r.GetProperty("arguments").GetProperty("address").GetString() == "127.0.0.1:8081");
    }

    [Fact]
    public void SendsWithADestinationFollowThePolicyAndARewrittenDestinationNeverLeaks()
    {
        var (output, refusals) = fixture.RunLogged("send-probe 4000");
        Assert.Contains("sendto-allowed=ok", output);
        Assert.Contains("sendto-refused=13", output); // EACCES
        Assert.Contains("sendmsg-allowed=ok", output);
        Assert.Contains("sendmsg-refused=13", output);
        Assert.Contains("sendmmsg-allowed=3 lens=2,2,2 got=1,1,1", output);
        Assert.Contains("sendmmsg-partial=1", output); // sent up to the refused destination
        Assert.Contains("sendmmsg-refused=13", output);
        Assert.Contains("connected=ok", output);
        Assert.Contains("scm-rights=ok", output);
        var race = System.Text.RegularExpressions.Regex.Match(output, @"race sent=(\d+) refused=(\d+) reached=(\d+) leaked=(\d+)");
        Assert.True(race.Success, output);
        Assert.Equal("0", race.Groups[4].Value);
        Assert.Equal(4000, int.Parse(race.Groups[1].Value) + int.Parse(race.Groups[2].Value));
        foreach (var call in new[] { "sendto", "sendmsg", "sendmmsg" })
            Assert.Contains(For(refusals, call), r => r.GetProperty("arguments").GetProperty("address").GetString() == "127.0.0.2:8080"
                && r.GetProperty("rule").GetString()!.Contains("connect") && r.GetProperty("errno").GetInt32() == 13);
    }

    [Fact]
    public void AnEngineHearsOfRefusalsInItsOwnDirectoryAndJournal()
    {
        // What moat (the engine) sets on a sandboxed container: where to keep the counts, its journal.
        var report = Directory.CreateTempSubdirectory("moat-sandbox-report").FullName;
        var journal = Path.Combine(report, "events.jsonl");
        var id = fixture.Bundle.NewId("sbx");
        try
        {
            fixture.Bundle.Spec.Annotations = new Dictionary<string, string>
            {
                ["run.moat.sandbox.report"] = report, ["run.moat.events"] = journal,
                ["run.moat.container.name"] = "web", ["run.moat.container.image"] = "busybox",
            };
            fixture.Bundle.Args("sh", "-c", "cat /secret/data; cat /secret/data; nc -w 1 127.0.0.1 9999 </dev/null; true");
            fixture.Bundle.Write();
            MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", fixture.PolicyFile, "run", "--detach", "--bundle", fixture.Bundle.Directory, id).Ok();
            Wait.Until(() => TestBundle.Status(id) == "stopped", $"container {id} to stop", 60);
            // The supervisor writes the window's last summary when the container's processes are gone.
            long Summed() => File.Exists(journal)
                ? File.ReadAllLines(journal).Select(l => Moat.Monitor.Protocol.ProtocolFiles.ParseEvent(System.Text.Encoding.UTF8.GetBytes(l))!)
                    .Where(e => e.Action == "sandbox_refusal" && e.Id == id).Sum(e => long.Parse(e.Attributes!["refusals"]))
                : 0;
            var counts = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(report, "sandbox-refusals.json"))).RootElement;
            var total = counts.GetProperty("refusals").GetInt64();
            Assert.True(total >= 3, $"{total} refusals");
            Assert.Equal(1, counts.GetProperty("byCall").GetProperty("connect").GetInt64());
            Wait.Until(() => Summed() == total, "every refusal summed up in the journal", 20);
            var events = File.ReadAllLines(journal).Select(l => Moat.Monitor.Protocol.ProtocolFiles.ParseEvent(System.Text.Encoding.UTF8.GetBytes(l))!).ToList();
            Assert.All(events, e => Assert.Equal("container", e.Type));
            Assert.All(events, e => Assert.Equal("web", e.Attributes!["name"]));
            Assert.Contains(events, e => e.Attributes!["calls"].Contains("connect=1"));
            Assert.Equal(total.ToString(System.Globalization.CultureInfo.InvariantCulture), events[^1].Attributes!["total"]);
        }
        finally
        {
            fixture.Bundle.Spec.Annotations = null;
            MoatCli.Run("delete", "--force", id);
            Directory.Delete(report, recursive: true);
        }
    }

    [Fact]
    public void ExecOnlyRunsThePolicysExecutables()
    {
        var (output, refusals) = fixture.RunLogged("cp /bin/busybox /tmp/bb && /tmp/bb true && echo ran || echo exec-refused");
        Assert.Contains("exec-refused", output);
        Assert.Contains(For(refusals, "execve"), r => r.GetProperty("arguments").GetProperty("resolved").GetString() == "/tmp/bb");
    }

    [Fact]
    public void TheDangerousCallsAreRefusedAndLogged()
    {
        var (output, refusals) = fixture.RunLogged("refused-probe");
        foreach (var call in new[] { "mount", "ptrace", "bpf", "keyctl", "unshare", "io_uring_setup", "userfaultfd", "perf_event_open", "setns", "open_tree" })
        {
            Assert.Contains($"{call}=1\n", output);
            Assert.NotEmpty(For(refusals, call));
        }
    }

    [Fact]
    public void RewritingThePathWhileItIsOpenedNeverOpensTheForbiddenFile()
    {
        // Both sides of the race must really be taken; on a loaded machine one round can see only one
        // side, so up to three rounds are added up. No round may leak.
        int opened = 0, refused = 0;
        var outputs = new List<string>();
        for (var round = 0; round < 3 && (opened == 0 || refused == 0); round++)
        {
            var (output, _) = fixture.RunLogged("race-probe 5000");
            outputs.Add(output);
            Assert.Matches(@"opened=\d+ refused=\d+ leaked=0", output);
            opened += int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"opened=(\d+)").Groups[1].Value);
            refused += int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"refused=(\d+)").Groups[1].Value);
        }
        Assert.True(opened > 0 && refused > 0, string.Join("\n", outputs));
    }

    [Fact]
    public void AMultiThreadedWorkloadRunsUnderTheBroker()
    {
        var result = fixture.Run("threads-probe");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("failures=0", result.Stdout);
    }

    [Fact]
    public void ExecIntoASandboxedContainerIsSupervisedToo()
    {
        var id = fixture.Bundle.NewId("sbx");
        fixture.Bundle.Args("sleep", "30");
        fixture.Bundle.Write();
        MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", fixture.PolicyFile, "run", "--detach", "--bundle", fixture.Bundle.Directory, id).Ok();
        var result = MoatCli.Run("exec", id, "sh", "-c", "cat /secret/data || echo no-secret; refused-probe | grep mount; echo hi > /tmp/e && cat /tmp/e");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("no-secret", result.Stdout);
        Assert.Contains("mount=1", result.Stdout);
        Assert.Contains("hi", result.Stdout);
        var log = File.ReadAllLines(Path.Combine(MoatCli.StateRoot, id, "sandbox-refusals.log"));
        Assert.NotEmpty(For(log, "mount"));
        var counts = Parse(File.ReadAllText(Path.Combine(MoatCli.StateRoot, id, "sandbox-refusals.json")));
        Assert.True(counts.GetProperty("refusals").GetInt64() >= 2);
        MoatCli.Run("delete", "--force", id).Ok();
    }

    [Fact]
    public void WhenTheSupervisorDiesTheContainerDies()
    {
        var id = fixture.Bundle.NewId("sbx");
        fixture.Bundle.Args("sleep", "60");
        fixture.Bundle.Write();
        MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", fixture.PolicyFile, "run", "--detach", "--bundle", fixture.Bundle.Directory, id).Ok();
        var record = Parse(File.ReadAllText(Path.Combine(MoatCli.StateRoot, id, "sandbox.json")));
        var supervisor = record.GetProperty("supervisorPid").GetInt32();
        var init = TestBundle.State(id).GetProperty("pid").GetInt32();
        Assert.True(Wait.ProcessExists(supervisor));
        Assert.Contains($"TracerPid:\t", File.ReadAllText($"/proc/{init}/status"));
        MoatCli.Exec("/bin/kill", ["-9", supervisor.ToString()]);
        Wait.Until(() => !Wait.ProcessExists(init), "the container's init to die with its supervisor");
        Assert.Equal("stopped", TestBundle.Status(id));
        MoatCli.Run("delete", "--force", id).Ok();
    }

    [Fact]
    public void AContainerConfinedToOneCpuIsServedFromThatCpu()
    {
        // Placement, never timing: which CPUs the supervisor's serving thread may use, read from /proc.
        var cpu = Environment.ProcessorCount - 1;
        var spec = fixture.Bundle.Spec;
        var resources = spec.Linux!.Resources;
        spec.Linux.Resources = new Moat.Oci.LinuxResources { Cpu = new Moat.Oci.LinuxCpu { Cpus = cpu.ToString() } };
        var id = fixture.Bundle.NewId("sbx");
        try
        {
            // A brokered open first: the init's thread serves from the start, the call proves it answers.
            fixture.Bundle.Args("sh", "-c", "cat /etc/passwd >/dev/null && exec sleep 60");
            fixture.Bundle.Write();
            MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", fixture.PolicyFile, "run", "--detach", "--bundle", fixture.Bundle.Directory, id).Ok();
            var supervisor = SandboxFixture.SupervisorPid(id);
            var init = TestBundle.State(id).GetProperty("pid").GetInt32();
            Wait.Until(() => File.ReadAllText($"/proc/{init}/cmdline").StartsWith("sleep", StringComparison.Ordinal), "the workload's sleep");
            // The main thread answers the init's notifications (thread id = the supervisor's pid).
            Assert.Contains($"Cpus_allowed_list:\t{cpu}\n", File.ReadAllText($"/proc/{supervisor}/task/{supervisor}/status"));
        }
        finally
        {
            spec.Linux.Resources = resources;
            fixture.Bundle.Write();
            MoatCli.Run("delete", "--force", id);
        }
    }

    [Fact]
    public void DeleteStopsTheSupervisorAndLeavesNothing()
    {
        var id = fixture.Bundle.NewId("sbx");
        fixture.Bundle.Args("sleep", "60");
        var created = fixture.Bundle.Create(id, []);
        Assert.True(created.ExitCode == 0, created.ToString());
        var result = MoatCli.Run("--isolation", "sandbox", "create", "--bundle", fixture.Bundle.Directory, id + "b");
        Assert.True(result.ExitCode == 0, result.ToString());
        var record = Parse(File.ReadAllText(Path.Combine(MoatCli.StateRoot, id + "b", "sandbox.json")));
        var supervisor = record.GetProperty("supervisorPid").GetInt32();
        var socket = record.GetProperty("socket").GetString()!;
        Assert.True(File.Exists(socket));
        MoatCli.Run("delete", "--force", id + "b").Ok();
        MoatCli.Run("delete", "--force", id).Ok();
        Wait.Until(() => !Wait.ProcessExists(supervisor), "the supervisor to go with its container");
        Assert.False(File.Exists(socket));
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id + "b")));
    }

    [Fact]
    public void TheTierIsChosenByAnnotationAndByExecutableName()
    {
        fixture.Bundle.Spec.Annotations = new Dictionary<string, string> { ["run.moat.isolation"] = "sandbox" };
        try
        {
            var byAnnotation = fixture.Run("grep -q 'Seccomp:.*2' /proc/self/status && echo filtered", "--sandbox-policy", fixture.PolicyFile);
            Assert.Contains("filtered", byAnnotation.Stdout);
        }
        finally
        {
            fixture.Bundle.Spec.Annotations = null;
        }
        var linked = Path.Combine(MoatCli.RepositoryRoot, "bin", "moat-runtime-sandbox");
        fixture.Bundle.Args("sh", "-c", "cat /secret/data || echo no-secret");
        fixture.Bundle.Write();
        var byName = MoatCli.Exec(linked, ["--root", MoatCli.StateRoot, "--sandbox-policy", fixture.PolicyFile, "run", "--bundle", fixture.Bundle.Directory, fixture.Bundle.NewId("sbx")]);
        Assert.Contains("no-secret", byName.Stdout);
    }
}
