using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime;
using Moat.Runtime.Exec;
using Moat.Runtime.Protocol;
using Moat.Runtime.State;
using Moat.Tests.Unit.Oci;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public sealed class ExecProcessTests
{
    private static readonly ExecProcessFlags NoFlags = new();

    private static byte[] Json(Process process) => SpecJson.ToUtf8Bytes(w => SpecJson.Write(w, process));

    /// <summary>The kitchen sink's process as written by the codec: every field of the model, set.</summary>
    private static readonly JsonNode ProcessTemplate = JsonTree.Parse(Json(KitchenSink.CreateProcess()));

    private static RuntimeState RunningContainer(Process? process) => new()
    {
        Id = "c1",
        Pid = 4321,
        Bundle = "/bundle",
        Rootfs = "/bundle/rootfs",
        CgroupPath = "/moat/c1",
        Config = new Spec
        {
            OciVersion = "1.2.0",
            Root = new Root { Path = "rootfs" },
            Process = process,
            Linux = new Linux { Namespaces = [new LinuxNamespace { Type = "pid" }, new LinuxNamespace { Type = "mount" }] },
        },
    };

    /// <summary>
    /// The process as the init stage gets it: the exec's init message is built, written as the runtime
    /// sends it, read back as the init reads it, and its process written by the codec; every leaf.
    /// </summary>
    private static SortedDictionary<string, string> LeavesReachingTheInit(Process process, RuntimeState state)
    {
        var message = ContainerExec.InitMessageFor(new ExecOptions(state.Id, process), state, state.Config!, seccomp: null);
        var sent = InitMessageCodec.Write(message);
        var sentProcess = JsonTree.Parse(sent)["spec"]!["process"];
        var received = InitMessageCodec.Read(sent).Spec.Process!;
        var leaves = JsonTree.Leaves(sentProcess, arraysAreLeaves: false);
        JsonTree.AssertSameLeaves(leaves, JsonTree.Leaves(JsonTree.Parse(Json(received)), arraysAreLeaves: false), "the process the init reads back");
        return leaves;
    }

    /// <summary>
    /// The leaves of a process document as the model means them: a false boolean is the same as an
    /// absent one (the codec leaves out terminal and noNewPrivileges when false).
    /// </summary>
    private static SortedDictionary<string, string> Meaning(SortedDictionary<string, string> leaves) =>
        new(leaves.Where(l => l.Value != "false").ToDictionary(), StringComparer.Ordinal);

    [Fact]
    public void EveryFieldOfAProcessFileReachesTheInitMessage()
    {
        var property = Prop.ForAll(Arb.From(JsonTree.Randomize(ProcessTemplate)), (JsonNode? file) =>
        {
            var bytes = JsonTree.ToUtf8(file);
            var process = ExecProcess.FromFile(bytes, "process.json", NoFlags, []);
            var reached = LeavesReachingTheInit(process, RunningContainer(KitchenSink.CreateProcess()));
            JsonTree.AssertSameLeaves(Meaning(JsonTree.Leaves(file, arraysAreLeaves: false)), Meaning(reached), "the --process file in the init message");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), property);
    }

    [Fact]
    public void TheKitchenSinkProcessFileReachesTheInitMessageWhole()
    {
        // Every field set and every boolean true: nothing is left out even by the "false is absent" rule.
        var bytes = Json(KitchenSink.CreateProcess());
        var process = ExecProcess.FromFile(bytes, "process.json", NoFlags, []);
        JsonTree.AssertSameLeaves(JsonTree.Leaves(JsonTree.Parse(bytes), arraysAreLeaves: false),
            LeavesReachingTheInit(process, RunningContainer(null)), "the --process file in the init message");
    }

    public sealed record ContainerCase(JsonNode ContainerProcess, string[] Args)
    {
        public override string ToString() => $"process {ContainerProcess.ToJsonString()}\nargs [{string.Join(", ", Args)}]";
    }

    [Fact]
    public void WithoutAProcessFileEveryFieldOfTheContainersProcessReachesTheInitMessage()
    {
        var cases = Arb.From(
            from process in JsonTree.Randomize(ProcessTemplate)
            from args in Gen.Elements("sh", "-c", "echo hi", "/bin/true", "é 日").NonEmptyListOf()
            select new ContainerCase(process!, [.. args]));
        var property = Prop.ForAll(cases, (ContainerCase c) =>
        {
            var containerProcess = SpecJson.ReadProcess(JsonTree.ToUtf8(c.ContainerProcess));
            var process = ExecProcess.FromContainer(containerProcess, c.Args, NoFlags);
            var reached = LeavesReachingTheInit(process, RunningContainer(containerProcess));

            // runc's rule, the only two differences: the args are the command's, and no terminal unless --tty.
            var expected = JsonTree.Leaves(c.ContainerProcess, arraysAreLeaves: false);
            foreach (var path in expected.Keys.Where(p => p == "$.terminal" || p.StartsWith("$.args", StringComparison.Ordinal)).ToList())
                expected.Remove(path);
            for (var i = 0; i < c.Args.Length; i++)
                expected.Add($"$.args[{i}]", JsonTree.ToUtf8String(c.Args[i]));
            JsonTree.AssertSameLeaves(Meaning(expected), Meaning(reached), "the container's process in the init message");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), property);
    }

    [Fact]
    public void TheContainersProcessIsCopiedNotShared()
    {
        var container = KitchenSink.CreateProcess();
        var process = ExecProcess.FromContainer(container, ["true"], new ExecProcessFlags { Env = ["PATH=/x"], User = "5:6", Caps = ["sys_admin"] });
        Assert.Equal(Json(KitchenSink.CreateProcess()), Json(container));
        Assert.Equal(["EMPTY=", "PATH=/x"], process.Env);
        Assert.Equal((5u, 6u), (process.User.Uid, process.User.Gid));
    }

    [Fact]
    public void FlagsApplyToTheContainersProcess()
    {
        var container = new Process
        {
            Terminal = true,
            Args = ["sleep", "1000"],
            Env = ["PATH=/bin", "KEEP=1"],
            Cwd = "/",
            User = new User { Uid = 1, Gid = 1, AdditionalGids = [3] },
            // Ambient gets an added capability only where the inheritable set names it (the kernel's rule).
            Capabilities = new LinuxCapabilities { Bounding = ["CAP_KILL"], Effective = ["CAP_KILL"], Permitted = ["CAP_KILL"], Inheritable = ["CAP_NET_ADMIN"] },
        };
        var flags = new ExecProcessFlags
        {
            Cwd = "/tmp", Env = ["PATH=/usr/bin", "NEW=2"], User = "1000:1001", AdditionalGids = ["7,8"], Caps = ["net_admin", "chown"],
            NoNewPrivileges = true, Apparmor = "profile", ProcessLabel = "label",
        };

        var process = ExecProcess.FromContainer(container, ["id"], flags);

        Assert.False(process.Terminal);
        Assert.Equal(["id"], process.Args);
        Assert.Equal("/tmp", process.Cwd);
        Assert.Equal(["KEEP=1", "PATH=/usr/bin", "NEW=2"], process.Env);
        Assert.Equal((1000u, 1001u), (process.User.Uid, process.User.Gid));
        Assert.Equal([3u, 7u, 8u], process.User.AdditionalGids);
        Assert.Equal(["CAP_KILL", "CAP_NET_ADMIN", "CAP_CHOWN"], process.Capabilities!.Bounding);
        Assert.Equal(["CAP_KILL", "CAP_NET_ADMIN", "CAP_CHOWN"], process.Capabilities.Effective);
        Assert.Equal(["CAP_NET_ADMIN"], process.Capabilities.Ambient);
        Assert.True(process.NoNewPrivileges);
        Assert.Equal("profile", process.ApparmorProfile);
        Assert.Equal("label", process.SelinuxLabel);
        Assert.True(ExecProcess.FromContainer(container, ["id"], new ExecProcessFlags { Tty = true }).Terminal);
    }

    [Theory]
    [InlineData("tty")]
    [InlineData("cwd")]
    [InlineData("env")]
    [InlineData("user")]
    [InlineData("additional-gids")]
    [InlineData("cap")]
    [InlineData("no-new-privs")]
    [InlineData("apparmor")]
    [InlineData("process-label")]
    public void AProcessFlagBesideAProcessFileIsIgnoredWithAWarningNamingIt(string flag)
    {
        var flags = flag switch
        {
            "tty" => new ExecProcessFlags { Tty = true },
            "cwd" => new ExecProcessFlags { Cwd = "/" },
            "env" => new ExecProcessFlags { Env = ["A=1"] },
            "user" => new ExecProcessFlags { User = "1" },
            "additional-gids" => new ExecProcessFlags { AdditionalGids = ["1"] },
            "cap" => new ExecProcessFlags { Caps = ["kill"] },
            "no-new-privs" => new ExecProcessFlags { NoNewPrivileges = true },
            "apparmor" => new ExecProcessFlags { Apparmor = "p" },
            _ => new ExecProcessFlags { ProcessLabel = "l" },
        };
        // As runc: ignored, but said. (conmon passes --tty with a process file whose terminal is set.)
        var file = KitchenSink.CreateProcess();
        file.Terminal = false;
        var warnings = new List<string>();
        var process = ExecProcess.FromFile(Json(file), "p.json", flags, [], warnings.Add);
        Assert.Equal(Json(file), Json(process));
        Assert.Equal(flag == "tty"
            ? "--tty is ignored: with --process, the process file's \"terminal\" decides (it is false)"
            : $"--{flag} is ignored: with --process, the process file is used as given (set the field there)", Assert.Single(warnings));
    }

    [Fact]
    public void TtyBesideAProcessFileThatWantsATerminalIsQuiet()
    {
        var file = KitchenSink.CreateProcess();
        file.Terminal = true;
        var warnings = new List<string>();
        Assert.True(ExecProcess.FromFile(Json(file), "p.json", new ExecProcessFlags { Tty = true }, [], warnings.Add).Terminal);
        Assert.Empty(warnings);
    }

    [Fact]
    public void ACommandBesideAProcessFileIsIgnoredWithAWarning()
    {
        var warnings = new List<string>();
        var process = ExecProcess.FromFile(Json(KitchenSink.CreateProcess()), "p.json", NoFlags, ["ls", "-l"], warnings.Add);
        Assert.Equal(KitchenSink.CreateProcess().Args, process.Args);
        Assert.Equal("the command \"ls\" is ignored: with --process, the process file's args are run", Assert.Single(warnings));
    }

    [Fact]
    public void ABrokenProcessFileNamesTheFileAndThePath()
    {
        var e = Assert.Throws<RuntimeException>(() => ExecProcess.FromFile("""{"user": {"uid": "x"}}"""u8, "p.json", NoFlags, []));
        Assert.StartsWith("--process p.json: ", e.Message);
        Assert.Contains("$.user.uid", e.Message);
    }

    [Fact]
    public void BadFlagValuesAreRefusedClearlyAndUnknownCapabilitiesDropped()
    {
        var container = new Process { Args = ["x"], Cwd = "/" };
        Assert.Equal("--user \"a:b\": expected <uid>[:<gid>] as numbers",
            Assert.Throws<RuntimeException>(() => ExecProcess.FromContainer(container, ["x"], new ExecProcessFlags { User = "a:b" })).Message);
        Assert.Equal("--additional-gids \"x\" is not a number",
            Assert.Throws<RuntimeException>(() => ExecProcess.FromContainer(container, ["x"], new ExecProcessFlags { AdditionalGids = ["1,x"] })).Message);
        // An unknown capability is a warning and is dropped, not a failure (runtime-spec 1.1+, runc).
        var warnings = new List<string>();
        var process = ExecProcess.FromContainer(container, ["x"], new ExecProcessFlags { Caps = ["bogus"] }, warnings.Add);
        Assert.Equal(["--cap \"bogus\": unknown capability; dropped"], warnings);
        Assert.Null(process.Capabilities);
    }
}
