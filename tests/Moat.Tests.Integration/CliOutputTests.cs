using System.Text.RegularExpressions;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>What the moat command prints when something is wrong: sentences, where runc puts them, and nothing else.</summary>
public sealed partial class CliOutputTests
{
    /// <summary>
    /// A framework resource key ("IO_PathNotFound_Path", "UnauthorizedAccess_IODenied_Path"): the
    /// NativeAOT build keeps only these instead of the framework's messages. A small letter after
    /// the first '_' tells them from the names moat prints on purpose (CAP_SYS_RESOURCE, RLIMIT_NOFILE).
    /// </summary>
    [GeneratedRegex(@"\b[A-Z][A-Za-z]*_[A-Za-z_]*[a-z][A-Za-z_]*\b")]
    private static partial Regex ResourceKey();

    /// <summary>The JSON reader's keys have no '_': its words, run together ("ExpectedStartOfValueNotFound").</summary>
    [GeneratedRegex(@"\b(Expected[A-Z]\w*|\w*NotFound|LineNumber|BytePositionInLine|InvalidCharacter\w*|TrailingComma\w*|ZeroDepthAtEnd|Format_\w*|Overflow_\w*)\b")]
    private static partial Regex JsonReaderKey();

    static void AssertIsASentence(MoatCli.Result result, string what)
    {
        Assert.True(result.ExitCode != 0, $"{what}: expected a failure, got {result}");
        var output = result.Stdout + result.Stderr;
        Assert.True(result.Stderr.Trim().Length > 0, $"{what}: no error message\n{result}");
        Assert.False(ResourceKey().IsMatch(output), $"{what}: a resource key reached the user\n{result}");
        Assert.False(JsonReaderKey().IsMatch(output), $"{what}: a JSON reader key reached the user\n{result}");
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void EveryBadInputIsReportedInWords()
    {
        using var bundle = new TestBundle();
        bundle.Write();
        var scratch = Directory.CreateTempSubdirectory("moat-it-bad-").FullName;
        try
        {
            string Bundle(string name, string? config)
            {
                var dir = Path.Combine(scratch, name);
                Directory.CreateDirectory(dir);
                Directory.CreateSymbolicLink(Path.Combine(dir, "rootfs"), bundle.Rootfs);
                if (config is not null)
                    File.WriteAllText(Path.Combine(dir, "config.json"), config);
                return dir;
            }
            var good = File.ReadAllText(Path.Combine(bundle.Directory, "config.json"));
            var noConfig = Bundle("no-config", null);
            var directoryConfig = Bundle("directory-config", null);
            Directory.CreateDirectory(Path.Combine(directoryConfig, "config.json"));
            // Mode 0200: not even root may read it.
            var unreadableConfig = Bundle("unreadable-config", null);
            File.CreateSymbolicLink(Path.Combine(unreadableConfig, "config.json"), "/proc/sys/vm/drop_caches");
            var noRootfs = Path.Combine(scratch, "no-rootfs");
            Directory.CreateDirectory(noRootfs);
            File.WriteAllText(Path.Combine(noRootfs, "config.json"), good);
            var rootFile = Path.Combine(scratch, "root-is-a-file");
            File.WriteAllText(rootFile, "");
            var badProcess = Path.Combine(scratch, "process.json");
            File.WriteAllText(badProcess, "{\"args\": [\"sh\",");
            var badResources = Path.Combine(scratch, "resources.json");
            File.WriteAllText(badResources, "{\"memory\": {\"limit\": x}}");

            var id = bundle.NewId("bad");
            var cases = new (string What, string[] Args)[]
            {
                ("spec into a missing bundle directory", ["spec", "--bundle", "/no/such/dir"]),
                ("create from a missing bundle directory", ["create", "--bundle", "/no/such/dir", id]),
                ("create from a bundle without config.json", ["create", "--bundle", noConfig, id]),
                ("create from a config.json that is a directory", ["create", "--bundle", directoryConfig, id]),
                ("create from an unreadable config.json", ["create", "--bundle", unreadableConfig, id]),
                ("exec with an unreadable process file", ["exec", "--process", "/proc/sys/vm/drop_caches", "no-such-container"]),
                ("create from a truncated config.json", ["create", "--bundle", Bundle("truncated", "{\"ociVersion\": \"1.2.0\", "), id]),
                ("create from a config.json with a bad token", ["create", "--bundle", Bundle("bad-token", "{\"ociVersion\": \"1.2.0\", \"process\": {\"args\": [\"a\", }}"), id]),
                ("create from a config.json with a trailing comma", ["create", "--bundle", Bundle("trailing-comma", "{\"ociVersion\": \"1.2.0\",}"), id]),
                ("create from a config.json with a newline in a string", ["create", "--bundle", Bundle("newline", "{\"ociVersion\": \"1.2\n.0\"}"), id]),
                ("create from a config.json that is not an object", ["create", "--bundle", Bundle("array", "[1, 2]"), id]),
                ("create from a config.json with a wrong type", ["create", "--bundle", Bundle("wrong-type", "{\"ociVersion\": \"1.2.0\", \"process\": 5}"), id]),
                ("create without the rootfs", ["create", "--bundle", noRootfs, id]),
                ("create with a pid file in a missing directory", ["create", "--bundle", bundle.Directory, "--pid-file", "/no/such/dir/pid", id]),
                ("state of an unknown id", ["state", "no-such-container"]),
                ("start of an unknown id", ["start", "no-such-container"]),
                ("kill of an unknown id", ["kill", "no-such-container"]),
                ("delete of an unknown id", ["delete", "no-such-container"]),
                ("pause of an unknown id", ["pause", "no-such-container"]),
                ("ps of an unknown id", ["ps", "no-such-container"]),
                ("events of an unknown id", ["events", "--stats", "no-such-container"]),
                ("exec into an unknown id", ["exec", "no-such-container", "true"]),
                ("exec with a missing process file", ["exec", "--process", "/no/such/process.json", "no-such-container"]),
                ("exec with a malformed process file", ["exec", "--process", badProcess, "no-such-container"]),
                ("update with a missing resources file", ["update", "--resources", "/no/such/resources.json", "no-such-container"]),
                ("update with a malformed resources file", ["update", "--resources", badResources, "no-such-container"]),
                ("update with a malformed number", ["update", "--memory", "12x", "no-such-container"]),
                ("an unknown flag", ["create", "--bogus"]),
                ("an unknown command", ["bogus-command"]),
            };
            foreach (var (what, args) in cases)
                AssertIsASentence(MoatCli.Run(args), what);

            // --root is given first by MoatCli.Run; these name their own.
            foreach (var verb in new[] { "create", "run" })
                AssertIsASentence(MoatCli.Exec(MoatCli.Binary, ["--root", rootFile, verb, "--bundle", bundle.Directory, id]), $"{verb} with a --root that is a file");
            AssertIsASentence(MoatCli.Exec(MoatCli.Binary, ["--root", rootFile + "/sub", "create", "--bundle", bundle.Directory, id]), "create with a --root below a file");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public void TheBadInputsNameWhatIsWrong()
    {
        var spec = MoatCli.Run("spec", "--bundle", "/no/such/dir");
        Assert.Contains("/no/such/dir", spec.Stderr);
        var process = MoatCli.Run("exec", "--process", "/no/such/process.json", "no-such-container");
        Assert.Equal("moat: --process /no/such/process.json: no such file or directory\n", process.Stderr);
        var unreadable = MoatCli.Run("exec", "--process", "/proc/sys/vm/drop_caches", "no-such-container");
        Assert.Equal("moat: --process /proc/sys/vm/drop_caches: permission denied\n", unreadable.Stderr);
        using var bundle = new TestBundle();
        var id = bundle.NewId();
        var result = bundle.Create(id, "--pid-file", "/no/such/dir/pid");
        Assert.Contains("--pid-file /no/such/dir/pid", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)));
    }

    /// <summary>
    /// runc 1.1.5 with --log: debug output and warnings go to the log only; an error goes to the log
    /// and, as a plain line, to stderr (containerd reads errors from the log).
    /// </summary>
    [Fact]
    public void WithALogFileDebugAndWarningsGoOnlyThereAndErrorsToBoth()
    {
        using var bundle = new TestBundle();
        var log = Path.Combine(bundle.Directory, "moat.log");
        var run = bundle.Run("--log", log, "--debug").Ok();
        Assert.Equal("", run.Stderr);
        Assert.Contains("level=debug", File.ReadAllText(log));

        File.Delete(log);
        var failed = MoatCli.Run("--log", log, "--debug", "state", "no-such-container");
        Assert.Equal(1, failed.ExitCode);
        Assert.Equal("moat: container \"no-such-container\" does not exist\n", failed.Stderr);
        Assert.Contains("level=error msg=", File.ReadAllText(log));

        // Without --log, stderr has it all.
        var plain = MoatCli.Run("--debug", "run", "--bundle", bundle.Directory, bundle.NewId());
        Assert.Contains("moat: debug: create", plain.Stderr);
    }

    [Fact]
    public void ALogThatCannotBeWrittenFallsBackToStderr()
    {
        var result = MoatCli.Run("--log", "/no/such/dir/moat.log", "state", "no-such-container");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("container \"no-such-container\" does not exist", result.Stderr);
    }

    /// <summary>
    /// An error printed on a terminal must leave it as it was. System.Console's first use on a
    /// terminal sends the keypad-transmit string (smkx: ESC [ ? 1 h, ESC =), which left the user's
    /// terminal in application keypad mode after moat exited.
    /// </summary>
    [Theory]
    [InlineData("state no-such-container")]
    [InlineData("create --bogus")]
    [InlineData("bogus-command")]
    [InlineData("spec --bundle /no/such/dir")]
    [InlineData("--help")]
    public void NothingSwitchesTheTerminalToKeypadMode(string arguments)
    {
        var command = $"TERM=xterm script -qec \"'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' {arguments}\" /dev/null";
        var result = MoatCli.Exec("/bin/sh", ["-c", command]);
        Assert.NotEqual("", result.Stdout);
        Assert.DoesNotContain("\x1b[?1h", result.Stdout);
        Assert.DoesNotContain("\x1b=", result.Stdout);
    }

    /// <summary>The same for a foreground run with a terminal whose container fails, and one whose warnings print on the terminal.</summary>
    [Fact]
    public void AForegroundTerminalRunLeavesNoKeypadMode()
    {
        using var bundle = new TestBundle("/no/such/program");
        bundle.Spec.Process!.Terminal = true;
        bundle.Spec.Process.Capabilities!.Ambient = ["CAP_KILL"];
        bundle.Write();
        var command = $"TERM=xterm script -qec \"'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --bundle '{bundle.Directory}' {bundle.NewId("keypad")}\" /dev/null";
        var result = MoatCli.Exec("/bin/sh", ["-c", command]);
        Assert.Contains("/no/such/program", result.Stdout);
        Assert.Contains("process.capabilities.ambient: CAP_KILL", result.Stdout);
        Assert.DoesNotContain("\x1b[?1h", result.Stdout);
        Assert.DoesNotContain("\x1b=", result.Stdout);
    }
}
