using System.Diagnostics;
using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Tests.Audit.Bundle;

/// <summary>
/// Configs podman itself writes (`podman create` + `init` with its storage under a temp --root): the flags that
/// loosen a container trip the rules they should. `init` may fail at the runtime step (crun's setrlimit in this
/// sandbox); config.json is written before that, and is all the test needs.
/// </summary>
public sealed class PodmanConfigTests : IDisposable
{
    readonly string work = Directory.CreateTempSubdirectory("moat-audit-podman-").FullName;

    static bool PodmanPresent => File.Exists("/usr/bin/podman") && Environment.UserName == "root";

    Spec PodmanConfig(params string[] flags)
    {
        var rootfs = Path.Combine(work, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        var name = "audit-" + Guid.NewGuid().ToString("N")[..8];
        var id = Podman(["create", "--name", name, "--network", "none", .. flags, "--rootfs", rootfs, "/bin/sh"]).Trim();
        Podman(["init", name], allowFailure: true);
        var config = Path.Combine(work, "root", "vfs-containers", id, "userdata", "config.json");
        var spec = SpecLoader.Parse(File.ReadAllBytes(config));
        Podman(["rm", "-f", name], allowFailure: true);
        return spec;
    }

    string Podman(string[] arguments, bool allowFailure = false)
    {
        var start = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--root", Path.Combine(work, "root"), "--runroot", Path.Combine(work, "run"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none", .. arguments])
            start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"podman {string.Join(' ', arguments)}: {stderr.Result}");
        return stdout;
    }

    static HashSet<string> Ids(Spec spec) => SpecAuditor.Audit(spec, "podman").Findings.Select(f => f.Rule.Id).ToHashSet();

    [Fact]
    public void Podman_flags_trip_the_expected_rules()
    {
        if (!PodmanPresent) { Assert.Fail("podman is not installed or the test is not root: these tests need both"); return; }

        var plain = SpecAuditor.Audit(PodmanConfig(), "podman");
        Assert.DoesNotContain(plain.Findings, f => f.Severity >= AuditSeverity.High); // podman's defaults hold at high
        Assert.Contains(plain.Findings, f => f.Rule.Id == "MOAT-A006"); // podman leaves no_new_privs off

        var privileged = SpecAuditor.Audit(PodmanConfig("--privileged"), "podman");
        var ids = privileged.Findings.Select(f => f.Rule.Id).ToHashSet();
        foreach (var expected in new[] { "MOAT-A002", "MOAT-A005", "MOAT-A021", "MOAT-A022", "MOAT-A023", "MOAT-A029" })
            Assert.Contains(expected, ids);
        Assert.Contains(privileged.Findings, f => f.Rule.Id == "MOAT-A002" && f.Message.StartsWith("privileged", StringComparison.Ordinal));

        var hostRoot = PodmanConfig("-v", "/:/host");
        Assert.Contains(SpecAuditor.Audit(hostRoot, "podman").Findings, f => f.Rule.Id == "MOAT-A018" && f.Severity == AuditSeverity.Critical);

        var sysAdmin = PodmanConfig("--cap-add", "SYS_ADMIN");
        Assert.Contains(SpecAuditor.Audit(sysAdmin, "podman").Findings, f => f.Rule.Id == "MOAT-A003" && f.Message.Contains("CAP_SYS_ADMIN") && f.Severity == AuditSeverity.Critical);

        Assert.Contains("MOAT-A011", Ids(PodmanConfig("--pid", "host")));
        Assert.Contains("MOAT-A005", Ids(PodmanConfig("--security-opt", "seccomp=unconfined")));
        Assert.DoesNotContain("MOAT-A006", Ids(PodmanConfig("--security-opt", "no-new-privileges")));
        Assert.Contains("MOAT-A020", Ids(PodmanConfig("--device", "/dev/fuse")));
    }

    public void Dispose()
    {
        try { Podman(["rm", "-a", "-f"], allowFailure: true); } catch (Exception) { }
        Directory.Delete(work, recursive: true);
    }
}
