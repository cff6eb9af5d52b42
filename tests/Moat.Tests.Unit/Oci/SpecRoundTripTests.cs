using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public class SpecRoundTripTests
{
    [Fact]
    public void FullConfigSurvivesParseAndSerializeUnchanged()
    {
        var spec = SpecLoader.Parse(SampleConfigs.Full);

        JsonAssert.Equivalent(SampleConfigs.Full, OciJson.Serialize(spec));
        JsonAssert.Equivalent(SampleConfigs.Full, OciJson.SerializeIndented(spec));
    }

    [Fact]
    public void FullConfigMapsOntoTheModel()
    {
        var spec = SpecLoader.Parse(SampleConfigs.Full);

        Assert.Equal("1.2.0", spec.OciVersion);
        var process = Assert.IsType<Process>(spec.Process);
        Assert.True(process.Terminal);
        Assert.Equal(80UL, process.ConsoleSize!.Width);
        Assert.Equal(18U, process.User.Umask);
        Assert.Equal([5U, 6U], process.User.AdditionalGids!);
        Assert.Equal(ulong.MaxValue, process.Rlimits![1].Hard);
        Assert.Equal(100, process.OomScoreAdj);
        Assert.Equal(-5, process.Scheduler!.Nice);
        Assert.Equal("0-3,7", process.ExecCpuAffinity!.Final);

        Assert.Equal(65536U, spec.Mounts![2].UidMappings![0].Size);
        Assert.Equal(5, spec.Hooks!.CreateContainer![0].Timeout);

        var linux = Assert.IsType<Linux>(spec.Linux);
        Assert.Equal("/var/run/netns/blue", linux.Namespaces![1].Path);
        Assert.Null(linux.Namespaces[0].Path);
        Assert.Equal(-86400L, linux.TimeOffsets!["monotonic"].Secs);
        Assert.Null(linux.Devices![2].Major);
        Assert.Equal(438U, linux.Devices[0].FileMode);

        var resources = linux.Resources!;
        Assert.Equal(-1L, resources.Memory!.Limit);
        Assert.True(resources.Memory.CheckBeforeUpdate);
        Assert.Equal(1000000L, resources.Cpu!.Quota);
        Assert.Equal(1L, resources.Cpu.Idle);
        Assert.Equal(32771L, resources.Pids!.Limit);
        Assert.Null(resources.BlockIo!.WeightDevice![1].LeafWeight);
        Assert.Equal(400UL, resources.BlockIo.ThrottleWriteIopsDevice![0].Rate);
        Assert.Equal("64KB", resources.HugepageLimits![1].PageSize);
        Assert.Equal(1048577U, resources.Network!.ClassId);
        Assert.Null(resources.Rdma!["mlx4_0"].HcaHandles);
        Assert.Equal("1073741824", resources.Unified!["memory.high"]);
        Assert.Null(resources.Devices![0].Major);

        Assert.True(linux.IntelRdt!.EnableMbm);
        var seccomp = linux.Seccomp!;
        Assert.Equal(1U, seccomp.DefaultErrnoRet);
        Assert.Equal(38U, seccomp.Syscalls![0].ErrnoRet);
        Assert.Equal(ulong.MaxValue, seccomp.Syscalls[2].Args![0].Value);
        Assert.Equal(8UL, seccomp.Syscalls[2].Args![1].ValueTwo);
        Assert.Equal("LINUX32", linux.Personality!.Domain);
        Assert.Equal("ctr0", linux.NetDevices!["eth2"].Name);
        Assert.Null(linux.NetDevices["ens4"].Name);
    }

    [Fact]
    public void FullConfigIsValid()
    {
        using var bundle = new TempBundle();
        SpecValidator.Validate(SpecLoader.Parse(SampleConfigs.Full), bundle.Directory);
    }

    [Fact]
    public void WriterOmitsAbsentAndDefaultOnlyFields()
    {
        var spec = new Spec
        {
            OciVersion = "1.2.0",
            Root = new Root { Path = "rootfs" },
            Process = new Process { Cwd = "/", Args = ["sh"] },
            Linux = new Linux { Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["read"], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Op = "SCMP_CMP_EQ" }] }] } },
        };

        JsonAssert.Equivalent("""
            {
              "ociVersion": "1.2.0",
              "process": { "user": { "uid": 0, "gid": 0 }, "args": ["sh"], "cwd": "/" },
              "root": { "path": "rootfs" },
              "linux": {
                "seccomp": {
                  "defaultAction": "SCMP_ACT_ALLOW",
                  "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 0, "op": "SCMP_CMP_EQ" }] }]
                }
              }
            }
            """, OciJson.Serialize(spec));
    }

    [Fact]
    public void IndentedOutputUsesTabsAndCompactOutputHasNoWhitespace()
    {
        var spec = new Spec { OciVersion = "1.2.0", Root = new Root { Path = "rootfs" } };

        Assert.Equal("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}}", OciJson.Serialize(spec));
        Assert.Equal("{\n\t\"ociVersion\": \"1.2.0\",\n\t\"root\": {\n\t\t\"path\": \"rootfs\"\n\t}\n}",
            OciJson.SerializeIndented(spec).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void ContainerStateSerializesLikeTheSpec()
    {
        var state = new ContainerState
        {
            OciVersion = "1.2.0",
            Id = "web",
            Status = ContainerStatus.Running,
            Pid = 4422,
            Bundle = "/containers/web",
            Annotations = new() { ["myKey"] = "myValue" },
        };

        JsonAssert.Equivalent(
            """{"ociVersion":"1.2.0","id":"web","status":"running","pid":4422,"bundle":"/containers/web","annotations":{"myKey":"myValue"}}""",
            OciJson.Serialize(state));

        // A stopped container has no process: pid is left out rather than reported as 0.
        state.Status = ContainerStatus.Stopped;
        state.Pid = 0;
        state.Annotations = null;
        JsonAssert.Equivalent(
            """{"ociVersion":"1.2.0","id":"web","status":"stopped","bundle":"/containers/web"}""",
            OciJson.Serialize(state));
    }

    [Fact]
    public void ContainerStateListRoundTrips()
    {
        List<ContainerState> states =
        [
            new() { OciVersion = "1.2.0", Id = "a", Status = ContainerStatus.Created, Pid = 10, Bundle = "/b/a" },
            new() { OciVersion = "1.2.0", Id = "b", Status = ContainerStatus.Stopped, Bundle = "/b/b" },
        ];

        var json = OciJson.SerializeIndented(states);
        var parsed = System.Text.Json.JsonSerializer.Deserialize(json, OciJsonContext.Default.ListContainerState);

        Assert.NotNull(parsed);
        Assert.Equal(["a", "b"], parsed.Select(s => s.Id));
        Assert.Equal(10, parsed[0].Pid);
        Assert.Equal(ContainerStatus.Stopped, parsed[1].Status);
    }
}
