using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Sandbox;

/// <summary>
/// One busybox bundle for every sandbox test (probes compiled once): /tmp a tmpfs, /out a host
/// directory where scripts leave their output, /secret/data a file no policy here lets anyone read.
/// Containers run under the real bin/moat-runtime with --isolation sandbox; each test removes its own.
/// </summary>
public sealed class SandboxFixture : IDisposable
{
    public TestBundle Bundle { get; }
    public string Out { get; }

    /// <summary>The policy most tests use: read everything but /secret, write /tmp and /out, run /bin, talk to 127.0.0.1:8080 only.</summary>
    public const string Policy = """
        { "readable": ["/bin", "/etc", "/dev", "/proc", "/tmp", "/out", "/lib"],
          "writable": ["/tmp", "/out", "/dev/null", "/dev/tty"],
          "hidden": ["/etc/hidden"],
          "executables": ["/bin"],
          "connect": ["127.0.0.1:8080"],
          "bind": [8080] }
        """;

    public SandboxFixture()
    {
        Bundle = new TestBundle("true");
        Out = Path.Combine(Bundle.Directory, "out");
        Directory.CreateDirectory(Out);
        File.SetUnixFileMode(Out, (UnixFileMode)Convert.ToInt32("777", 8));
        Directory.CreateDirectory(Path.Combine(Bundle.Rootfs, "secret"));
        File.WriteAllText(Path.Combine(Bundle.Rootfs, "secret", "data"), "SECRET");
        File.SetUnixFileMode(Path.Combine(Bundle.Rootfs, "secret", "data"), (UnixFileMode)Convert.ToInt32("644", 8));
        File.WriteAllText(Path.Combine(Bundle.Rootfs, "etc", "hidden"), "HIDDEN");
        Directory.CreateDirectory(Path.Combine(Bundle.Rootfs, "out"));
        Bundle.Spec.Mounts!.Add(new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev", "mode=1777"] });
        Bundle.Spec.Mounts.Add(new Mount { Destination = "/out", Type = "bind", Source = Out, Options = ["rbind", "rw"] });
        foreach (var (name, source) in Probes.All)
            StaticProgram.Compile(source, Path.Combine(Bundle.Rootfs, "bin", name));
        File.WriteAllText(PolicyFile, Policy);
    }

    public string PolicyFile => Path.Combine(Bundle.Directory, "policy.json");

    /// <summary>Runs the script in the foreground in a sandboxed container: exit status, stdout, stderr.</summary>
    public MoatCli.Result Run(string script, params string[] global)
    {
        Bundle.Args("sh", "-c", script);
        Bundle.Write();
        return MoatCli.Run([.. global.Length > 0 ? global : ["--isolation", "sandbox", "--sandbox-policy", PolicyFile], "run", "--bundle", Bundle.Directory, Bundle.NewId("sbx")]);
    }

    /// <summary>Runs the script detached, waits for it to end, and returns what it wrote (stdout and stderr to /out) and the refusal log.</summary>
    public (string Output, string[] Refusals) RunLogged(string script)
    {
        var id = Bundle.NewId("sbx");
        var output = Path.Combine(Out, id);
        Bundle.Args("sh", "-c", $"exec >/out/{id} 2>&1; {script}");
        Bundle.Write();
        MoatCli.Run("--isolation", "sandbox", "--sandbox-policy", PolicyFile, "run", "--detach", "--bundle", Bundle.Directory, id).Ok();
        Wait.Until(() => TestBundle.Status(id) == "stopped", $"container {id} to stop", 60);
        var log = Path.Combine(MoatCli.StateRoot, id, "sandbox-refusals.log");
        var refusals = File.Exists(log) ? File.ReadAllLines(log) : [];
        MoatCli.Run("delete", "--force", id).Ok();
        return (File.Exists(output) ? File.ReadAllText(output) : "", refusals);
    }

    /// <summary>The supervisor's pid, from the sandbox tier's record in the container's state.</summary>
    public static int SupervisorPid(string id) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(MoatCli.StateRoot, id, "sandbox.json"))).RootElement.GetProperty("supervisorPid").GetInt32();

    public void Dispose() => Bundle.Dispose();
}

[CollectionDefinition("sandbox")]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>;
