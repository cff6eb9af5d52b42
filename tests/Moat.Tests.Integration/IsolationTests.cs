using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>What a process inside the container can and cannot see, checked from inside.</summary>
public sealed class IsolationTests
{
    [Fact]
    public void ContainerIsPidOneAndSeesNoHostProcesses()
    {
        using var bundle = new TestBundle();
        var output = bundle.Sh("echo $$; ls /proc | grep -c '^[0-9]'");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("1", lines[0]);
        // sh, ls and grep at most: none of the host's processes.
        Assert.InRange(int.Parse(lines[1]), 1, 4);
    }

    [Fact]
    public void HostnameAndDomainnameComeFromTheConfig()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Hostname = "moat-box";
        bundle.Spec.Domainname = "example.test";
        Assert.Equal("moat-box\nexample.test\n", bundle.Sh("hostname; cat /proc/sys/kernel/domainname"));
        Assert.NotEqual("moat-box", Environment.MachineName);
    }

    /// <summary>The same domain name in linux.sysctl and the domainname field was refused; runc and crun accept it.</summary>
    [Fact]
    public void KernelDomainnameSysctlMayRepeatTheDomainname()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Domainname = "example.test";
        bundle.Spec.Linux!.Sysctl = new() { ["kernel.domainname"] = "example.test" };
        Assert.Equal("example.test\n", bundle.Sh("cat /proc/sys/kernel/domainname"));

        bundle.Spec.Linux.Sysctl["kernel.domainname"] = "other.test";
        var result = bundle.Run();
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("\"other.test\" conflicts with the domainname field \"example.test\"", result.Stderr);
    }

    [Fact]
    public void NetworkNamespaceHasOnlyLoopback()
    {
        using var bundle = new TestBundle();
        var interfaces = bundle.Sh("ls /sys/class/net");
        Assert.Equal("lo\n", interfaces);
    }

    /// <summary>
    /// A new network namespace has lo down; the runtime brings it up (as runc and crun do), so that
    /// 127.0.0.1 works. The sysfs inside is the container's own, so its flags are lo's in there.
    /// The server writes with -e (the client reads to end-of-file): a server copying its own
    /// stdin would shut its side at once and could end the client before it sent anything.
    /// </summary>
    [Fact]
    public void LoopbackOfANewNetworkNamespaceIsUpAndReachable()
    {
        using var bundle = new TestBundle();
        var output = bundle.Sh("""
            cat /sys/class/net/lo/flags; ip -o link show lo | grep -o '<[^>]*>'
            nc -l -p 5555 -e /bin/echo over-loopback &
            ok=0
            for i in $(seq 100); do
                if nc 127.0.0.1 5555 </dev/null 2>/dev/null; then ok=1; break; fi
                usleep 50000
            done
            [ $ok = 1 ] || kill $!
            wait
            echo connected=$ok
            """).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var flags = Convert.ToInt32(output[0], 16);
        Assert.True((flags & 1) != 0, $"lo is down: flags {output[0]}"); // IFF_UP
        Assert.Contains("UP", output[1].Trim('<', '>').Split(','));
        Assert.Contains("over-loopback", output);
        Assert.Equal("connected=1", output[^1]);
    }

    /// <summary>
    /// HOME, when process.env has none, is the home directory of the process's uid in the
    /// container's /etc/passwd, or / when the uid is not listed or there is no passwd (runc, crun).
    /// </summary>
    [Fact]
    public void HomeComesFromTheContainersPasswdUnlessTheConfigSetsIt()
    {
        using var bundle = new TestBundle();
        var passwd = Path.Combine(bundle.Rootfs, "etc", "passwd");
        File.AppendAllText(passwd, "# a comment line\napp:x:1000:1000:App:/home/app:/bin/sh\n");
        string Home(uint uid)
        {
            bundle.Spec.Process!.User = new Oci.User { Uid = uid, Gid = uid };
            return bundle.Sh("echo \"$HOME\"; env | grep -c '^HOME='");
        }
        Assert.Equal("/root\n1\n", Home(0));
        Assert.Equal("/home/app\n1\n", Home(1000));
        Assert.Equal("/\n1\n", Home(2000));

        bundle.Spec.Process!.Env!.Add("HOME=/from-config");
        Assert.Equal("/from-config\n1\n", Home(1000));
        bundle.Spec.Process.Env.RemoveAt(bundle.Spec.Process.Env.Count - 1);

        File.Delete(passwd);
        Assert.Equal("/\n1\n", Home(0));
    }

    [Fact]
    public void EveryRequestedNamespaceDiffersFromTheHost()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Namespaces!.Add(new Oci.LinuxNamespace { Type = "time" });
        var inside = bundle.Sh("for n in pid net mnt ipc uts cgroup time; do readlink /proc/self/ns/$n; done")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var host = new[] { "pid", "net", "mnt", "ipc", "uts", "cgroup", "time" }
            .Select(n => new FileInfo($"/proc/self/ns/{n}").LinkTarget!).ToArray();
        Assert.Equal(7, inside.Length);
        for (var i = 0; i < host.Length; i++)
            Assert.NotEqual(host[i], inside[i]);
    }

    [Fact]
    public void ProcessGetsTheConfiguredCapabilitiesAndNoNewPrivileges()
    {
        using var bundle = new TestBundle();
        var status = bundle.Sh("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status");
        // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29): what `moat spec` grants.
        Assert.Contains("CapPrm:\t0000000020000420", status);
        Assert.Contains("CapEff:\t0000000020000420", status);
        Assert.Contains("CapBnd:\t0000000020000420", status);
        Assert.Contains("CapInh:\t0000000000000000", status);
        Assert.Contains("CapAmb:\t0000000000000000", status);
        Assert.Contains("NoNewPrivs:\t1", status);
    }

    [Fact]
    public void AmbientCapabilitiesSurviveExecForANonRootUser()
    {
        using var bundle = new TestBundle();
        var caps = bundle.Spec.Process!.Capabilities!;
        caps.Inheritable = ["CAP_NET_BIND_SERVICE"];
        caps.Ambient = ["CAP_NET_BIND_SERVICE"];
        bundle.Spec.Process.User = new Oci.User { Uid = 1000, Gid = 1000, AdditionalGids = [1001, 1002] };
        var output = bundle.Sh("id; grep -E '^(CapEff|CapAmb)' /proc/self/status");
        // The supplementary groups are exactly additionalGids, as with runc.
        Assert.Contains("uid=1000 gid=1000 groups=1001,1002", Normalize(output));
        Assert.Contains("CapAmb:\t0000000000000400", output);
        Assert.Contains("CapEff:\t0000000000000400", output);
    }

    static string Normalize(string idOutput)
    {
        // busybox id prints names in parentheses when /etc/passwd knows them; keep the numbers only.
        return System.Text.RegularExpressions.Regex.Replace(idOutput, @"\([^)]*\)", "");
    }

    [Fact]
    public void UserUmaskAndWorkingDirectoryApply()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.Cwd = "/work/dir";
        bundle.Spec.Process.User.Umask = Convert.ToUInt32("027", 8);
        bundle.Spec.Root!.Readonly = false;
        Assert.Equal("/work/dir\n0027\n", bundle.Sh("pwd; umask"));
    }

    [Fact]
    public void RlimitsAreApplied()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.Rlimits = [new Oci.PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 512, Hard = 768 }];
        Assert.Equal("512\n768\n", bundle.Sh("ulimit -n; ulimit -Hn"));
    }

    [Fact]
    public void OomScoreAdjAndNamespacedSysctlsApply()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.OomScoreAdj = 123;
        bundle.Spec.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = "1", ["kernel.shmmax"] = "12345678" };
        Assert.Equal("123\n1\n12345678\n", bundle.Sh("cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax"));
    }

    [Fact]
    public async Task ExitStatusIsTheContainers()
    {
        using var bundle = new TestBundle("sh", "-c", "exit 7");
        Assert.Equal(7, bundle.Run().ExitCode);

        // Killed by a signal: 128 + signal. (Pid 1 ignores signals sent from inside, so from outside.)
        bundle.Args("sleep", "1000");
        bundle.Write();
        var id = bundle.NewId();
        var run = Task.Run(() => MoatCli.Run("run", "--bundle", bundle.Directory, id));
        Wait.Until(() => MoatCli.Run("state", id) is { ExitCode: 0 } s && s.Stdout.Contains("\"running\""), "the container to run");
        MoatCli.Run("kill", id, "KILL").Ok();
        Assert.Equal(128 + 9, (await run).ExitCode);
    }

    /// <summary>
    /// A foreground run passes the signals it receives to the container and returns its status,
    /// also when it was started with the signal ignored (as under nohup).
    /// </summary>
    [Theory]
    [InlineData("TERM", 7, false)]
    [InlineData("INT", 8, false)]
    [InlineData("HUP", 9, false)]
    [InlineData("HUP", 10, true)]
    [InlineData("TERM", 11, true)]
    public void ForegroundRunForwardsSignals(string signal, int exitCode, bool ignoredAtStart)
    {
        using var bundle = new TestBundle("sh", "-c", $"trap 'exit {exitCode}' {signal}; echo ready; while :; do sleep 0.05; done");
        bundle.Write();
        var id = bundle.NewId("signal");
        var output = Path.Combine(bundle.Directory, "out");
        // Started directly (a shell's background job would have SIGINT ignored), then moat itself,
        // not the container, is signalled.
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", $"exec {(ignoredAtStart ? $"/usr/bin/env --ignore-signal={signal} " : "")}'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --bundle '{bundle.Directory}' {id} > '{output}'" },
        };
        using var moat = System.Diagnostics.Process.Start(start)!;
        Wait.Until(() => File.Exists(output) && File.ReadAllText(output).Contains("ready"), "the container to start");
        MoatCli.Exec("/bin/kill", [$"-{signal}", moat.Id.ToString()]).Ok();
        Assert.True(moat.WaitForExit(TimeSpan.FromSeconds(30)), "moat run did not exit");
        Assert.Equal(exitCode, moat.ExitCode);
    }

    /// <summary>
    /// A signal that reaches a foreground run while the container is still being created is kept
    /// and passed on once its process runs: moat neither dies of it (leaving the container behind)
    /// nor drops it. A createRuntime hook holds the create open for the signal.
    /// </summary>
    [Fact]
    public void ASignalDuringCreateIsPassedOnOnceTheProcessRuns()
    {
        using var bundle = new TestBundle("sleep", "30");
        // Not the init of its own pid namespace, which the kernel would shield from SIGTERM.
        bundle.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "pid");
        bundle.Spec.Hooks = new Oci.Hooks { CreateRuntime = [new Oci.Hook { Path = "/bin/sleep", Args = ["sleep", "1"] }] };
        bundle.Write();
        var id = bundle.NewId("early");
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", $"exec '{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --bundle '{bundle.Directory}' {id} >/dev/null" },
        };
        using var moat = System.Diagnostics.Process.Start(start)!;
        Wait.Until(() => Directory.Exists(Path.Combine(MoatCli.StateRoot, id)), "the create to begin");
        Thread.Sleep(200); // inside the hook's second
        MoatCli.Exec("/bin/kill", ["-TERM", moat.Id.ToString()]).Ok();
        Assert.True(moat.WaitForExit(TimeSpan.FromSeconds(30)), "moat run did not exit");
        // The container's sleep was killed by the forwarded SIGTERM, and moat, alive, removed it.
        Assert.Equal(128 + 15, moat.ExitCode);
        Assert.Contains("does not exist", MoatCli.Run("state", id).Stderr);
    }

    [Fact]
    public void TimeNamespaceOffsetsShiftBoottime()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Namespaces!.Add(new Oci.LinuxNamespace { Type = "time" });
        bundle.Spec.Linux.TimeOffsets = new() { ["boottime"] = new Oci.LinuxTimeOffset { Secs = 10 * 86400 } };
        var uptime = double.Parse(bundle.Sh("cut -d' ' -f1 /proc/uptime").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var hostUptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(uptime >= hostUptime + 10 * 86400 - 5, $"container uptime {uptime}, host {hostUptime}");
    }

    [Fact]
    public void PersonalityLinux32ChangesTheReportedMachine()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Personality = new Oci.LinuxPersonality { Domain = "LINUX32" };
        Assert.Equal("i686\n", bundle.Sh("uname -m"));
    }
}
