using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// runtime-spec 1.1+: a capability that cannot be granted MUST be logged as a warning and SHOULD NOT
/// fail the container. The runtime reduces the sets before the spawn: the warnings come from the
/// command that creates (stderr, or --log), and the container runs with what can be granted.
/// </summary>
public sealed class CapabilityTests
{
    /// <summary>What `runc spec` (runc 1.1.2 and later) writes: ambient equal to the others, no inheritable.</summary>
    static readonly List<string> RuncSpecCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    const string CapStatus = "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb):' /proc/self/status";

    static void UseRuncSpecCapabilities(Spec spec) => spec.Process!.Capabilities = new LinuxCapabilities
    {
        Bounding = [.. RuncSpecCapabilities],
        Effective = [.. RuncSpecCapabilities],
        Permitted = [.. RuncSpecCapabilities],
        Ambient = [.. RuncSpecCapabilities],
    };

    static void AssertAmbientWarnings(string stderr)
    {
        foreach (var name in RuncSpecCapabilities)
            Assert.Contains($"moat: warning: process.capabilities.ambient: {name} is not both inheritable and permitted, so it cannot be ambient; dropped", stderr);
    }

    static ulong HostBounding() =>
        Convert.ToUInt64(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapBnd:"))["CapBnd:".Length..].Trim(), 16);

    /// <summary>
    /// Before: create and start both exited 0 and poststart hooks ran, but the init failed to raise
    /// the ambient set ("prctl raise ambient capability: Operation not permitted") and the program
    /// never ran. Now the program runs, without the ambient capabilities (as under runc: CapAmb 0).
    /// </summary>
    [Fact]
    public void AmbientWithoutInheritableStillRunsTheProgramAfterCreateAndStart()
    {
        using var bundle = new TestBundle();
        UseRuncSpecCapabilities(bundle.Spec);
        var output = Directory.CreateTempSubdirectory("moat-it-caps-").FullName;
        try
        {
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/out", Type = "bind", Source = output, Options = ["rbind", "rw"] });
            bundle.Args("sh", "-c", $"{CapStatus} > /out/status");
            var id = bundle.NewId("caps");
            var created = bundle.Create(id).Ok();
            AssertAmbientWarnings(created.Stderr);
            MoatCli.Run("start", id).Ok();
            Wait.Until(() => TestBundle.Status(id) == "stopped", "the container's program to finish");
            var status = File.ReadAllText(Path.Combine(output, "status"));
            Assert.Contains("CapAmb:\t0000000000000000", status);
            Assert.Contains("CapInh:\t0000000000000000", status);
            Assert.Contains("CapBnd:\t0000000020000420", status);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void AmbientWithoutInheritableRunsInTheForegroundWithAWarningEach()
    {
        using var bundle = new TestBundle();
        UseRuncSpecCapabilities(bundle.Spec);
        bundle.Args("sh", "-c", CapStatus);
        var result = bundle.Run().Ok();
        Assert.Contains("CapAmb:\t0000000000000000", result.Stdout);
        AssertAmbientWarnings(result.Stderr);
    }

    /// <summary>
    /// Root here lacks CAP_SYS_RESOURCE in its own bounding set, so `docker run --privileged` (every
    /// capability) failed with every runtime. The capability is left out, with a warning per set.
    /// </summary>
    [Fact]
    public void CapabilityTheRuntimeLacksIsDroppedWithAWarningAndTheContainerRuns()
    {
        using var bundle = new TestBundle();
        var caps = bundle.Spec.Process!.Capabilities!;
        foreach (var set in new[] { caps.Bounding, caps.Effective, caps.Permitted })
            set!.Add("CAP_SYS_RESOURCE");
        caps.Inheritable = ["CAP_KILL", "CAP_SYS_RESOURCE"];
        caps.Ambient = ["CAP_KILL", "CAP_SYS_RESOURCE"];
        bundle.Args("sh", "-c", CapStatus);
        var result = bundle.Run().Ok();
        if ((HostBounding() & (1UL << 24)) != 0)
        {
            Assert.Contains("CapEff:\t0000000021000420", result.Stdout); // this host grants root CAP_SYS_RESOURCE
            return;
        }
        Assert.Contains("CapEff:\t0000000020000420", result.Stdout);
        Assert.Contains("CapAmb:\t0000000000000020", result.Stdout);
        foreach (var set in new[] { "bounding", "effective", "permitted", "inheritable", "ambient" })
            Assert.Contains($"moat: warning: process.capabilities.{set}: CAP_SYS_RESOURCE is not in this runtime's own capability bounding set, so it cannot be granted; dropped", result.Stderr);
    }

    [Fact]
    public void UnknownCapabilityIsDroppedWithAWarning()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.Capabilities!.Effective!.Add("CAP_BOGUS");
        bundle.Args("sh", "-c", CapStatus);
        var result = bundle.Run().Ok();
        Assert.Contains("CapEff:\t0000000020000420", result.Stdout);
        Assert.Contains("moat: warning: process.capabilities.effective: unknown capability \"CAP_BOGUS\"; dropped", result.Stderr);
    }

    /// <summary>The warnings are the runtime's: with --log they are in the log, in runc's format, and not on stderr.</summary>
    [Fact]
    public void WarningsGoToTheLogFileWhenOneIsGiven()
    {
        using var bundle = new TestBundle();
        UseRuncSpecCapabilities(bundle.Spec);
        var log = Path.Combine(bundle.Directory, "moat.log");
        var result = bundle.Run("--log", log, "--log-format", "json").Ok();
        Assert.DoesNotContain("warning", result.Stderr);
        var lines = File.ReadAllLines(log);
        foreach (var name in RuncSpecCapabilities)
            Assert.Contains(lines, l => l.Contains("\"level\":\"warning\"") && l.Contains($"process.capabilities.ambient: {name} is not both inheritable and permitted"));
    }

    /// <summary>exec follows the same rule: its process's sets are reduced by the runtime that runs exec.</summary>
    [Fact]
    public void ExecDropsWhatCannotBeGrantedWithWarnings()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId("capexec");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();

        var unknown = MoatCli.Run("exec", "--cap", "CAP_BOGUS", "--cap", "CAP_SYS_RESOURCE", id, "sh", "-c", CapStatus).Ok();
        Assert.Contains("moat: warning: --cap \"CAP_BOGUS\": unknown capability; dropped", unknown.Stderr);
        Assert.Contains("CapAmb:\t0000000000000000", unknown.Stdout);
        if ((HostBounding() & (1UL << 24)) == 0)
        {
            Assert.Contains("moat: warning: process.capabilities.effective: CAP_SYS_RESOURCE is not in this runtime's own capability bounding set", unknown.Stderr);
            Assert.Contains("CapEff:\t0000000020000420", unknown.Stdout);
        }

        // A process file with runc spec's sets (ambient without inheritable).
        var processFile = Path.Combine(bundle.Directory, "process.json");
        File.WriteAllText(processFile, $$"""
            {"args": ["sh", "-c", "{{CapStatus}}"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"],
             "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
            }
            """);
        var fromFile = MoatCli.Run("exec", "--process", processFile, id).Ok();
        Assert.Contains("CapAmb:\t0000000000000000", fromFile.Stdout);
        Assert.Contains("CapBnd:\t0000000000000020", fromFile.Stdout);
        Assert.Contains("moat: warning: process.capabilities.ambient: CAP_KILL is not both inheritable and permitted, so it cannot be ambient; dropped", fromFile.Stderr);
    }
}
