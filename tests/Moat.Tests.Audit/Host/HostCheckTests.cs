using Moat.Audit.Findings;
using Moat.Audit.Host;

namespace Moat.Tests.Audit.Host;

/// <summary>Each host check against a fake /proc/sys and /sys tree (pass, then fail), and once against the real host.</summary>
public class HostCheckTests
{
    static AuditReport Audit(FakeHost host, string? runtime = null) => HostAuditor.Audit(new RootedHostFiles(host.Root), runtime);

    static IReadOnlyList<AuditFinding> Findings(FakeHost host, string id, string? runtime = null) => Audit(host, runtime).Findings.Where(f => f.Rule.Id == id).ToList();

    [Fact]
    public void A_hardened_fake_host_has_no_finding()
    {
        using var host = FakeHost.Hardened();
        var report = Audit(host);
        Assert.Empty(report.Findings);
        // Only what the fake tree lacks is "not checked": engine sockets and the runtime binary.
        Assert.Equal(["MOAT-H013", "MOAT-H014", "MOAT-H015"], report.Outcomes.Where(o => o.Status == CheckStatus.NotApplicable).Select(o => o.Rule.Id).Order().ToArray());
    }

    [Theory]
    [InlineData("kernel.unprivileged_bpf_disabled", 0, "MOAT-H004", AuditSeverity.High)]
    [InlineData("kernel.kptr_restrict", 0, "MOAT-H005", AuditSeverity.Medium)]
    [InlineData("kernel.dmesg_restrict", 0, "MOAT-H006", AuditSeverity.Low)]
    [InlineData("kernel.yama.ptrace_scope", 0, "MOAT-H007", AuditSeverity.Low)]
    [InlineData("kernel.perf_event_paranoid", 1, "MOAT-H008", AuditSeverity.Medium)]
    [InlineData("net.core.bpf_jit_harden", 0, "MOAT-H009", AuditSeverity.Low)]
    [InlineData("user.max_user_namespaces", 15000, "MOAT-H003", AuditSeverity.Medium)]
    public void A_weak_sysctl_is_a_finding_with_its_fix(string name, long value, string id, AuditSeverity severity)
    {
        using var host = FakeHost.Hardened();
        host.Sysctl(name, value);
        var finding = Assert.Single(Findings(host, id));
        Assert.Equal(severity, finding.Severity);
        Assert.Contains(name.Split('.')[^1], finding.Fix.Change);
    }

    [Fact]
    public void Debian_userns_clone_and_ubuntu_apparmor_restriction_are_read()
    {
        using var host = FakeHost.Hardened();
        host.Sysctl("user.max_user_namespaces", 15000).Sysctl("kernel.unprivileged_userns_clone", 0);
        Assert.Empty(Findings(host, "MOAT-H003"));
        host.Sysctl("kernel.unprivileged_userns_clone", 1);
        Assert.Contains("unprivileged_userns_clone", Assert.Single(Findings(host, "MOAT-H003")).Fix.Change);
        host.Sysctl("kernel.apparmor_restrict_unprivileged_userns", 1);
        Assert.Empty(Findings(host, "MOAT-H003"));
    }

    [Fact]
    public void A_missing_sysctl_is_not_checked_rather_than_passed()
    {
        using var host = FakeHost.Hardened();
        File.Delete(Path.Join(host.Root, "/proc/sys/kernel/yama/ptrace_scope"));
        var outcome = Audit(host).Outcomes.Single(o => o.Rule.Id == "MOAT-H007");
        Assert.Equal(CheckStatus.NotApplicable, outcome.Status);
    }

    [Theory]
    [InlineData("5.16.10", true)]   // Dirty Pipe fixed in 5.16.11
    [InlineData("5.16.11", false)]
    [InlineData("5.13.19", true)]   // a branch that ended before the fix
    [InlineData("5.7.19", false)]   // before the bug
    [InlineData("5.17.0", false)]   // mainline fix
    public void Kernel_versions_are_matched_per_stable_branch(string version, bool dirtyPipe)
    {
        using var host = FakeHost.Hardened();
        host.Write("/proc/sys/kernel/osrelease", version);
        var findings = Findings(host, "MOAT-H001");
        Assert.Equal(dirtyPipe, findings.Any(f => f.Message.Contains("CVE-2022-0847")));
        Assert.All(findings, f => Assert.Equal(AuditSeverity.High, f.Severity));
    }

    [Fact]
    public void A_distribution_kernel_is_read_from_its_upstream_version_or_reported_as_uncertain()
    {
        using var host = FakeHost.Hardened();
        host.Write("/proc/sys/kernel/osrelease", "5.15.0-91-generic");
        var uncertain = Findings(host, "MOAT-H001");
        Assert.NotEmpty(uncertain);
        Assert.All(uncertain, f => Assert.Equal(AuditSeverity.Medium, f.Severity));
        host.Write("/proc/version_signature", "Ubuntu 5.15.0-91.101-generic 5.15.131");
        Assert.DoesNotContain(Findings(host, "MOAT-H001"), f => f.Message.Contains("CVE-2022-0847") || f.Message.Contains("CVE-2023-0386"));
        Assert.Contains(Findings(host, "MOAT-H001"), f => f.Message.Contains("CVE-2024-1086") && f.Message.Contains("5.15.149"));
    }

    [Fact]
    public void No_confining_lsm_is_a_finding()
    {
        using var host = FakeHost.Hardened();
        host.Write("/sys/kernel/security/lsm", "lockdown,capability,landlock,yama,bpf");
        Assert.Single(Findings(host, "MOAT-H002"));
    }

    [Fact]
    public void Cgroup_v1_and_missing_memory_controller_are_findings()
    {
        using var host = FakeHost.Hardened();
        host.Write("/sys/fs/cgroup/cgroup.controllers", "cpu io pids");
        Assert.Single(Findings(host, "MOAT-H011"));
        File.Delete(Path.Join(host.Root, "/sys/fs/cgroup/cgroup.controllers"));
        host.Write("/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t100\t1");
        Assert.Single(Findings(host, "MOAT-H010"));
        Assert.Empty(Findings(host, "MOAT-H011"));
    }

    [Fact]
    public void State_directories_and_sockets_open_to_others_are_findings()
    {
        using var host = FakeHost.Hardened();
        File.SetUnixFileMode(Path.Join(host.Root, "/var/lib/moat"), (UnixFileMode)Convert.ToInt32("777", 8));
        File.SetUnixFileMode(Path.Join(host.Root, "/run/moat"), (UnixFileMode)Convert.ToInt32("755", 8));
        var findings = Findings(host, "MOAT-H012");
        Assert.Contains(findings, f => f.Path == "/var/lib/moat" && f.Severity == AuditSeverity.Critical);
        Assert.Contains(findings, f => f.Path == "/run/moat" && f.Severity == AuditSeverity.Medium);

        host.Write("/run/docker.sock", "");
        File.SetUnixFileMode(Path.Join(host.Root, "/run/docker.sock"), (UnixFileMode)Convert.ToInt32("666", 8));
        Assert.Equal(AuditSeverity.Critical, Assert.Single(Findings(host, "MOAT-H013")).Severity);
    }

    [Fact]
    public void The_runtime_binary_is_checked_for_permissions_and_elf_hardening()
    {
        using var host = FakeHost.Hardened();
        // A real hardened PIE from the host, copied into the fake tree.
        const string source = "/bin/ls";
        var binary = "/usr/bin/moat-runtime";
        Directory.CreateDirectory(Path.Join(host.Root, "/usr/bin"));
        File.Copy(source, Path.Join(host.Root, binary));
        File.SetUnixFileMode(Path.Join(host.Root, binary), (UnixFileMode)Convert.ToInt32("755", 8));
        Assert.Empty(Findings(host, "MOAT-H014", binary));
        var elf = ElfHardening.Read(new RootedHostFiles(host.Root), binary, out _);
        Assert.NotNull(elf);
        Assert.True(elf.Pie && elf.NonExecutableStack, $"{source}: {elf}");

        File.SetUnixFileMode(Path.Join(host.Root, binary), (UnixFileMode)Convert.ToInt32("757", 8));
        Assert.Equal(AuditSeverity.Critical, Assert.Single(Findings(host, "MOAT-H014", binary)).Severity);

        host.Write("/usr/bin/not-elf", "#!/bin/sh");
        Assert.Single(Findings(host, "MOAT-H015", "/usr/bin/not-elf"));
    }

    [Fact]
    public void Every_check_reports_on_the_real_host()
    {
        var report = HostAuditor.Audit(new RootedHostFiles("/"), HostAuditor.FindRuntimeBinary(null, Environment.GetEnvironmentVariable("PATH")));
        Assert.Equal(HostAuditor.Checks.Count, report.Outcomes.Count);
        Assert.All(report.Outcomes, o => Assert.True(o.Status != CheckStatus.NotApplicable || !string.IsNullOrEmpty(o.Reason), o.Rule.Id));
        Assert.All(report.Findings, f => Assert.NotEmpty(f.Fix.Change));
    }
}
