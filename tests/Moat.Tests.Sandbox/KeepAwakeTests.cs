using Moat.Sandbox.Supervisor;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Sandbox;

/// <summary>
/// The keep-awake process (Moat.Sandbox/Supervisor/KeepAwake, native/keep-awake.c) of a sandboxed container
/// whose brokered calls come fast: started by the supervisor, its spinners SCHED_IDLE, one per CPU, in a cpu
/// cgroup with cpu.idle set, parked once the calls stop, gone with the container. Placement and state from
/// /proc, never timing.
/// </summary>
[Collection("sandbox")]
public sealed class KeepAwakeTests(SandboxFixture fixture)
{
    const int SchedIdle = 5;

    [Fact]
    public void FastCallsStartSpinnersInAnIdleCgroupThatParkWhenTheCallsStopAndGoWithTheContainer()
    {
        if (Environment.ProcessorCount < 2)
            return; // one CPU: nothing crosses between CPUs, the supervisor never starts it (KeepAwake.For)
        var id = fixture.Bundle.NewId("sbx");
        try
        {
            var supervisor = RunOpenLoop(id);

            var keepAwake = KeepAwakeChildOf(supervisor);
            var cgroupDirectory = IdleCgroupDirectory();
            if (cgroupDirectory is null || Environment.ProcessorCount > KeepAwake.MaxCpus)
            {
                // No cpu controller with cpu.idle here (spinners outside such a cgroup would slow calls down), or
                // more CPUs than are kept awake: none may run.
                Wait.Until(() => KeepAwakeChildOf(supervisor) is null, "no keep-awake process");
                return;
            }
            Assert.True(keepAwake is not null, "no keep-awake process beside the supervisor after 3,000 brokered opens");
            var pid = keepAwake.Value;
            Assert.Contains(File.ReadAllText($"/proc/{pid}/cgroup").Split('\n'),
                line => line.EndsWith(":/" + KeepAwakeProcess.CgroupName, StringComparison.Ordinal) && (line.Contains(":cpu") || line.StartsWith("0::", StringComparison.Ordinal)));
            Assert.Equal("1", File.ReadAllText(Path.Combine(cgroupDirectory, "cpu.idle")).Trim());

            // One spinner per CPU the container may use, each confined to its CPU, each SCHED_IDLE.
            var spinners = Directory.GetDirectories($"/proc/{pid}/task").Select(t => Stat(t + "/stat")).Where(s => s.Policy == SchedIdle).ToList();
            Assert.Equal(Enumerable.Range(0, Environment.ProcessorCount).Select(c => c.ToString()), spinners.Select(s => AllowedCpus(pid, s.Tid)).Order());

            // The calls have stopped: every spinner parks (sleeping on its futex, not running).
            Wait.Until(() => Directory.GetDirectories($"/proc/{pid}/task").Select(t => Stat(t + "/stat")).Where(s => s.Policy == SchedIdle).All(s => s.State == 'S'),
                "the spinners to park once the calls stop");

            MoatCli.Run("delete", "--force", id).Ok();
            Wait.Until(() => !Wait.ProcessExists(pid), "the keep-awake process to end with its supervisor");
        }
        finally
        {
            MoatCli.Run("delete", "--force", id);
        }
    }

    [Fact]
    public void TheAnnotationTurnsItOffAndTakesOnlyTrueOrFalse()
    {
        var id = fixture.Bundle.NewId("sbx");
        try
        {
            fixture.Bundle.Spec.Annotations = new Dictionary<string, string> { [Moat.Sandbox.Tier.SandboxTier.KeepAwakeAnnotation] = "sometimes" };
            fixture.Bundle.Args("true");
            fixture.Bundle.Write();
            var refused = MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", fixture.PolicyFile, "create", "--bundle", fixture.Bundle.Directory, id);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("run.moat.sandbox.keep-awake=sometimes must be true or false", refused.Stderr);
            Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)));

            fixture.Bundle.Spec.Annotations[Moat.Sandbox.Tier.SandboxTier.KeepAwakeAnnotation] = "false";
            Assert.Null(KeepAwakeChildOf(RunOpenLoop(id)));
        }
        finally
        {
            fixture.Bundle.Spec.Annotations = null;
            fixture.Bundle.Write();
            MoatCli.Run("delete", "--force", id);
        }
    }

    /// <summary>
    /// Runs container <paramref name="id"/> detached: 3,000 opens by the shell itself (a redirection: no fork
    /// between them), then quiet; returns its supervisor's pid once the loop has ended.
    /// </summary>
    int RunOpenLoop(string id)
    {
        fixture.Bundle.Args("sh", "-c", "i=0; while [ $i -lt 3000 ]; do read x < /etc/passwd; i=$((i+1)); done; exec sleep 60");
        fixture.Bundle.Write();
        MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", fixture.PolicyFile, "run", "--detach", "--bundle", fixture.Bundle.Directory, id).Ok();
        var init = TestBundle.State(id).GetProperty("pid").GetInt32();
        Wait.Until(() => File.ReadAllText($"/proc/{init}/cmdline").StartsWith("sleep", StringComparison.Ordinal), "the loop of opens to end");
        return SandboxFixture.SupervisorPid(id);
    }

    static int? KeepAwakeChildOf(int supervisor)
    {
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
                continue;
            try
            {
                if (Stat(directory + "/stat").Parent == supervisor && File.ReadAllText(directory + "/cmdline").Contains(KeepAwakeProcess.Verb))
                    return pid;
            }
            catch (IOException)
            {
            }
        }
        return null;
    }

    /// <summary>
    /// The idle cgroup's directory when this host can have one, else null: a v1 cpu hierarchy with cpu.idle,
    /// or the cpu controller enabled at the v2 root of a kernel with cpu.idle (5.15). Judged from the host, not
    /// from what the keep-awake process made.
    /// </summary>
    static string? IdleCgroupDirectory()
    {
        var host = Moat.Runtime.Cgroups.CgroupHost.Detect();
        var hierarchy = host.V1("cpu") ?? host.Unified;
        if (hierarchy is null)
            return null;
        var supported = hierarchy.IsV2
            ? File.ReadAllText(Path.Combine(hierarchy.MountPoint, "cgroup.subtree_control")).Split(' ', '\n').Contains("cpu") && Environment.OSVersion.Version >= new Version(5, 15)
            : File.Exists(Path.Combine(hierarchy.MountPoint, "cpu.idle"));
        return supported ? Path.Combine(hierarchy.MountPoint, KeepAwakeProcess.CgroupName) : null;
    }

    static string AllowedCpus(int pid, int tid) =>
        File.ReadAllLines($"/proc/{pid}/task/{tid}/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split('\t')[1];

    /// <summary>Fields of /proc/.../stat after the command's closing parenthesis: state (3), parent (4), policy (41).</summary>
    static (int Tid, char State, int Parent, int Policy) Stat(string path)
    {
        var text = File.ReadAllText(path);
        var tid = int.Parse(text[..text.IndexOf(' ')]);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (tid, fields[0][0], int.Parse(fields[1]), int.Parse(fields[38]));
    }
}
