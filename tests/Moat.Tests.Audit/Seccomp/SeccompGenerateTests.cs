using System.Diagnostics;
using System.Text.Json.Nodes;
using Moat.Audit.Seccomp;

namespace Moat.Tests.Audit.Seccomp;

/// <summary>
/// `moat seccomp generate` for real (root, bin/moat and bin/moat-runtime from `make build`): a busybox
/// workload and a small static TCP server are recorded, run again under the profile written, and
/// refused a call they never made.
/// </summary>
public sealed class SeccompGenerateTests : IDisposable
{
    readonly string work = Directory.CreateTempSubdirectory("moat-seccomp-gen-").FullName;
    readonly string runtimeRoot;

    public SeccompGenerateTests() => runtimeRoot = Path.Combine(work, "runtime");

    public void Dispose()
    {
        // Containers are `run`: they are gone when their program exits; the tree is ours.
        Directory.Delete(work, recursive: true);
    }

    static string RepositoryFile(string relative)
    {
        var directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Moat.slnx")))
            directory = Path.GetDirectoryName(directory);
        var path = Path.Combine(directory ?? throw new InvalidOperationException("the repository root was not found"), relative);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run `make build` first");
    }

    static (int Exit, string Out, string Err) Run(string binary, params string[] arguments)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    string Bundle(string name, params string[] args)
    {
        var bundle = Path.Combine(work, name);
        var made = Run(RepositoryFile("scripts/make-bundle.sh"), [bundle, .. args]);
        Assert.True(made.Exit == 0, made.Err);
        return bundle;
    }

    static void SetArgs(string bundle, params string[] args)
    {
        var path = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        config["process"]!["args"] = new JsonArray([.. args.Select(a => (JsonNode)JsonValue.Create(a)!)]);
        File.WriteAllText(path, config.ToJsonString());
    }

    static void UseProfile(string bundle, string profile)
    {
        var path = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        config["linux"]!["seccomp"] = JsonNode.Parse(File.ReadAllText(profile));
        File.WriteAllText(path, config.ToJsonString());
    }

    (int Exit, string Out, string Err) Generate(string bundle, string profile) =>
        Run(RepositoryFile("bin/moat"), "seccomp", "generate", "--bundle", bundle, "-o", profile, "--runtime-root", runtimeRoot);

    (int Exit, string Out, string Err) RunBundle(string bundle) =>
        Run(RepositoryFile("bin/moat-runtime"), "--root", runtimeRoot, "run", "--bundle", bundle, "seccomp-test-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void A_busybox_workload_runs_again_under_its_profile_and_is_refused_what_it_never_did()
    {
        var bundle = Bundle("busybox", "sh", "-c", "ls / > /dev/null; cat /etc/passwd; sleep 0.1; echo finished");
        var profile = Path.Combine(work, "busybox.json");
        var recorded = Generate(bundle, profile);
        // Recording changes nothing the program does: it ran to its normal end.
        Assert.True(recorded.Exit == 0, recorded.Err);
        Assert.Contains("finished", recorded.Out);
        Assert.Contains("the program exited 0", recorded.Err);

        UseProfile(bundle, profile);
        var again = RunBundle(bundle);
        Assert.True(again.Exit == 0, again.Err);
        Assert.Contains("root:x:0:0", again.Out);
        Assert.Contains("finished", again.Out);

        SetArgs(bundle, "sh", "-c", "unshare -U true; echo unshare=$?; mkdir /tmp/m; echo mkdir=$?; keyctl show 2>/dev/null; echo keyctl=$?");
        var refused = RunBundle(bundle);
        Assert.Contains("unshare=1", refused.Out);
        Assert.Contains("mkdir=1", refused.Out);
        Assert.Contains("Operation not permitted", refused.Err);

        // Against Moat's default the recorded profile allows nothing more (clone's condition is the same).
        var diff = Run(RepositoryFile("bin/moat"), "seccomp", "diff", profile);
        Assert.True(diff.Exit == 0, diff.Out + diff.Err);
        // And the default allows far more than the workload needs.
        var beyond = Run(RepositoryFile("bin/moat"), "seccomp", "diff", "default", profile, "--format", "json");
        Assert.Equal(1, beyond.Exit);
        var calls = JsonNode.Parse(beyond.Out)!["syscalls"]!.AsArray().Select(n => (string)n!["name"]!).ToList();
        Assert.Contains("mkdirat", calls);
        Assert.Contains("chmod", calls);
        // unshare is refused by both (the default allows it only with CAP_SYS_ADMIN).
        Assert.DoesNotContain("unshare", calls);
    }

    [Fact]
    public void A_static_server_keeps_its_socket_families_and_nothing_more()
    {
        var bundle = Bundle("server", "/echo-server");
        var binary = Path.Combine(bundle, "rootfs", "echo-server");
        var compiled = Run("/usr/bin/cc", "-static", "-O2", "-o", binary, RepositoryFile("tests/Moat.Tests.Audit/Seccomp/echo-server.c"));
        Assert.True(compiled.Exit == 0, compiled.Err);
        var profile = Path.Combine(work, "server.json");
        var recorded = Generate(bundle, profile);
        Assert.True(recorded.Exit == 0, recorded.Err);
        Assert.Contains("served", recorded.Out);
        Assert.Contains("socket families: AF_INET", recorded.Err);

        var generated = ProfileFile.Load(profile);
        Assert.Equal("allowed if arg0 == 2", ProfileDiff.VerdictOf(generated, "socket").Detail);
        Assert.Equal(SyscallVerdictKind.Allowed, ProfileDiff.VerdictOf(generated, "accept").Kind is SyscallVerdictKind.Allowed
            ? SyscallVerdictKind.Allowed : ProfileDiff.VerdictOf(generated, "accept4").Kind);

        UseProfile(bundle, profile);
        var again = RunBundle(bundle);
        Assert.True(again.Exit == 0, again.Out + again.Err);
        Assert.Contains("served", again.Out);

        SetArgs(bundle, "/echo-server", "v6");
        var v6 = RunBundle(bundle);
        Assert.Equal(3, v6.Exit);
        Assert.Contains("socket AF_INET6: Operation not permitted", v6.Err);
    }

    [Fact]
    public void A_bundle_that_cannot_start_is_a_sentence()
    {
        var bundle = Bundle("broken", "/no/such/program");
        var recorded = Generate(bundle, Path.Combine(work, "never.json"));
        Assert.Equal(125, recorded.Exit);
        Assert.Contains("Error: the container did not start", recorded.Err);
        Assert.False(File.Exists(Path.Combine(work, "never.json")));
    }
}
