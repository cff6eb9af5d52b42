using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Tests.Audit.Bundle;

/// <summary>Each rule: a config that trips it (its id, severity, path) and the tight config, which passes every rule.</summary>
public class RuleTests
{
    static Spec Tight() => Configs.Tight();

    [Fact]
    public void The_tight_config_passes_every_rule()
    {
        var report = Configs.Audit(Tight());
        Assert.Empty(report.Findings);
        Assert.Equal(SpecAuditor.Rules.Count, report.Outcomes.Count);
    }

    [Fact]
    public void Rule_ids_are_unique_and_every_rule_has_a_source_and_rationale()
    {
        Assert.Equal(SpecAuditor.RuleInfos.Count, SpecAuditor.RuleInfos.Select(r => r.Id).Distinct().Count());
        Assert.All(SpecAuditor.RuleInfos, r => { Assert.NotEmpty(r.Source); Assert.NotEmpty(r.Rationale); });
    }

    public static TheoryData<string, string, AuditSeverity, string> Loosened => new()
    {
        { "root", "MOAT-A001", AuditSeverity.Medium, "process.user.uid" },
        { "all-caps", "MOAT-A002", AuditSeverity.Critical, "process.capabilities.effective" },
        { "sys-admin", "MOAT-A003", AuditSeverity.Critical, "process.capabilities.bounding[3]" },
        { "net-raw", "MOAT-A004", AuditSeverity.Low, "process.capabilities.bounding[3]" },
        { "no-seccomp", "MOAT-A005", AuditSeverity.High, "linux.seccomp" },
        { "allow-seccomp", "MOAT-A005", AuditSeverity.Medium, "linux.seccomp.defaultAction" },
        { "nnp-off", "MOAT-A006", AuditSeverity.Medium, "process.noNewPrivileges" },
        { "writable-root", "MOAT-A007", AuditSeverity.Low, "root.readonly" },
        { "no-memory", "MOAT-A008", AuditSeverity.Low, "linux.resources.memory" },
        { "no-cpu", "MOAT-A009", AuditSeverity.Low, "linux.resources.cpu" },
        { "no-pids", "MOAT-A010", AuditSeverity.Medium, "linux.resources.pids" },
                { "host-pid", "MOAT-A011", AuditSeverity.Medium, "linux.namespaces" }, // high, one step lower in the user namespace
        { "host-ipc", "MOAT-A012", AuditSeverity.Low, "linux.namespaces" },
        { "host-uts", "MOAT-A013", AuditSeverity.Low, "linux.namespaces" },
        { "host-net-path", "MOAT-A014", AuditSeverity.Medium, "linux.namespaces[1].path" },
        { "host-net-root", "MOAT-A014", AuditSeverity.High, "linux.namespaces" },
        { "no-userns", "MOAT-A015", AuditSeverity.Low, "linux.namespaces" },
        { "host-mount", "MOAT-A016", AuditSeverity.Critical, "linux.namespaces" },
        { "host-cgroupns", "MOAT-A017", AuditSeverity.Low, "linux.namespaces" },
        { "etc-ro", "MOAT-A018", AuditSeverity.Medium, "mounts[7].source" }, // high, one step lower in the user namespace
        { "root-rw", "MOAT-A018", AuditSeverity.Critical, "mounts[7].source" },
        { "docker-sock", "MOAT-A019", AuditSeverity.Critical, "mounts[7].source" },
        { "device-sda", "MOAT-A020", AuditSeverity.Critical, "linux.devices[0]" },
        { "device-fuse", "MOAT-A020", AuditSeverity.Medium, "linux.devices[0]" },
        { "cgroup-all", "MOAT-A021", AuditSeverity.Critical, "linux.resources.devices[2]" },
        { "cgroup-disk", "MOAT-A021", AuditSeverity.Critical, "linux.resources.devices[2]" },
        { "unmask-kcore", "MOAT-A022", AuditSeverity.Medium, "linux.maskedPaths" },
        { "unmask-all", "MOAT-A022", AuditSeverity.High, "linux.maskedPaths" },
        { "proc-sys-rw", "MOAT-A023", AuditSeverity.Medium, "linux.readonlyPaths" },
        { "sysctl-global", "MOAT-A024", AuditSeverity.High, "linux.sysctl[\"kernel.core_pattern\"]" },
        { "sysctl-shared-net", "MOAT-A024", AuditSeverity.High, "linux.sysctl[\"net.ipv4.ip_forward\"]" },
        { "rshared", "MOAT-A025", AuditSeverity.Medium, "mounts[7].options[1]" },
        { "no-lsm", "MOAT-A026", AuditSeverity.Low, "process.apparmorProfile" },
        { "unconfined", "MOAT-A026", AuditSeverity.Medium, "process.apparmorProfile" },
        { "oom", "MOAT-A027", AuditSeverity.Low, "process.oomScoreAdj" },
        { "rtprio", "MOAT-A028", AuditSeverity.Low, "process.rlimits[1].hard" },
        { "sysfs-rw", "MOAT-A029", AuditSeverity.Medium, "mounts[5].options" },
        { "hook", "MOAT-A030", AuditSeverity.Low, "hooks.prestart[0].path" },
    };

    [Theory]
    [MemberData(nameof(Loosened))]
    public void A_loosened_config_trips_its_rule(string change, string ruleId, AuditSeverity severity, string path)
    {
        var spec = Tight();
        Loosen(spec, change);
        var findings = Configs.Findings(spec, ruleId);
        Assert.True(findings.Count > 0, $"{change} did not trip {ruleId}");
        var finding = Assert.Single(findings, f => f.Path == path && f.Severity == severity);
        Assert.NotEmpty(finding.Gain);
        Assert.NotEmpty(finding.Fix.Flag);
        Assert.NotEmpty(finding.Fix.Change);
    }

    static void Loosen(Spec spec, string change)
    {
        var process = spec.Process!;
        var linux = spec.Linux!;
        var mounts = spec.Mounts!;
        switch (change)
        {
            case "root": process.User = new User(); linux.Namespaces!.RemoveAll(n => n.Type == "user"); break;
            case "all-caps":
                process.Capabilities = new LinuxCapabilities { Bounding = [.. Capabilities.Names], Effective = [.. Capabilities.Names], Permitted = [.. Capabilities.Names] };
                linux.Namespaces!.RemoveAll(n => n.Type == "user"); break;
            case "sys-admin": process.Capabilities!.Bounding!.Add("CAP_SYS_ADMIN"); linux.Namespaces!.RemoveAll(n => n.Type == "user"); break;
            case "net-raw": process.Capabilities!.Bounding!.Add("CAP_NET_RAW"); break;
            case "no-seccomp": linux.Seccomp = null; break;
            case "allow-seccomp": linux.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW" }; break;
            case "nnp-off": process.NoNewPrivileges = false; break;
            case "writable-root": spec.Root!.Readonly = false; break;
            case "no-memory": linux.Resources!.Memory = null; break;
            case "no-cpu": linux.Resources!.Cpu = null; break;
            case "no-pids": linux.Resources!.Pids = null; break;
            case "host-pid": linux.Namespaces!.RemoveAll(n => n.Type == "pid"); break;
            case "host-ipc": linux.Namespaces!.RemoveAll(n => n.Type == "ipc"); break;
            case "host-uts": linux.Namespaces!.RemoveAll(n => n.Type == "uts"); break;
            case "host-net-path": linux.Namespaces![1].Path = "/proc/1/ns/net"; break;
            case "host-net-root": linux.Namespaces!.RemoveAll(n => n.Type is "network" or "user"); break;
            case "no-userns": linux.Namespaces!.RemoveAll(n => n.Type == "user"); break;
            case "host-mount": linux.Namespaces!.RemoveAll(n => n.Type == "mount"); break;
            case "host-cgroupns": linux.Namespaces!.RemoveAll(n => n.Type == "cgroup"); break;
            case "etc-ro": mounts.Add(new Mount { Destination = "/host-etc", Type = "bind", Source = "/etc", Options = ["rbind", "ro"] }); break;
            case "root-rw": mounts.Add(new Mount { Destination = "/host", Type = "bind", Source = "/", Options = ["rbind", "rw"] }); linux.Namespaces!.RemoveAll(n => n.Type == "user"); break;
            case "docker-sock": mounts.Add(new Mount { Destination = "/var/run/docker.sock", Type = "bind", Source = "/var/run/docker.sock", Options = ["bind", "ro"] }); break;
            case "device-sda": linux.Devices = [new LinuxDevice { Type = "b", Path = "/dev/sda", Major = 8, Minor = 0 }]; break;
            case "device-fuse": linux.Devices = [new LinuxDevice { Type = "c", Path = "/dev/fuse", Major = 10, Minor = 229 }]; break;
            case "cgroup-all": linux.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Access = "rwm" }); break;
            case "cgroup-disk": linux.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "b", Major = 8, Minor = 0, Access = "rw" }); break;
            case "unmask-kcore": linux.MaskedPaths!.Remove("/proc/kcore"); break;
            case "unmask-all": linux.MaskedPaths = []; break;
            case "proc-sys-rw": linux.ReadonlyPaths!.Remove("/proc/sys"); break; // softened one step: the user namespace stays
            case "sysctl-global": linux.Sysctl = new() { ["kernel.core_pattern"] = "|/tmp/x" }; break;
            case "sysctl-shared-net": linux.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" }; linux.Namespaces!.RemoveAll(n => n.Type == "network"); break;
            case "rshared": mounts.Add(new Mount { Destination = "/data", Type = "bind", Source = "/srv/data", Options = ["rbind", "rshared"] }); break;
            case "no-lsm": process.ApparmorProfile = null; break;
            case "unconfined": process.ApparmorProfile = "unconfined"; break;
            case "oom": process.OomScoreAdj = -500; break;
            case "rtprio": process.Rlimits!.Add(new PosixRlimit { Type = "RLIMIT_RTPRIO", Hard = 99, Soft = 99 }); break;
            case "sysfs-rw": mounts[5].Options!.Remove("ro"); break; // high, one step lower in the user namespace
            case "hook": spec.Hooks = new Hooks { Prestart = [new Hook { Path = "/usr/bin/evil" }] }; break;
            default: throw new ArgumentException(change);
        }
    }

    [Fact]
    public void Capabilities_in_a_user_namespace_are_one_step_lower()
    {
        var spec = Tight();
        spec.Process!.Capabilities!.Bounding!.Add("CAP_SYS_ADMIN");
        Assert.Equal(AuditSeverity.High, Assert.Single(Configs.Findings(spec, "MOAT-A003")).Severity);
    }

    [Fact]
    public void A_user_namespace_mapping_root_to_host_root_does_not_count()
    {
        var spec = Tight();
        spec.Process!.User = new User();
        spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 0, Size = 65536 }];
        Assert.Single(Configs.Findings(spec, "MOAT-A001"));
    }

    [Fact]
    public void Engine_files_and_standard_devices_are_not_sensitive_mounts()
    {
        var spec = Tight();
        spec.Mounts!.Add(new Mount { Destination = "/etc/resolv.conf", Type = "bind", Source = "/var/lib/docker/containers/abc/resolv.conf", Options = ["rbind", "ro"] });
        spec.Mounts.Add(new Mount { Destination = "/dev/null", Type = "bind", Source = "/dev/null", Options = ["rbind"] });
        spec.Mounts.Add(new Mount { Destination = "/data", Type = "bind", Source = "/srv/app", Options = ["rbind", "rw"] });
        Assert.Empty(Configs.Audit(spec).Findings);
    }

    [Fact]
    public void Namespaced_sysctls_of_owned_namespaces_pass()
    {
        var spec = Tight();
        spec.Linux!.Sysctl = new() { ["net.ipv4.ping_group_range"] = "0 0", ["kernel.shm_rmid_forced"] = "1", ["fs.mqueue.msg_max"] = "20" };
        Assert.Empty(Configs.Audit(spec).Findings);
    }

    [Fact]
    public void Auditing_a_config_takes_milliseconds()
    {
        var spec = Configs.Tight();
        Configs.Audit(spec);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++) Configs.Audit(spec);
        Assert.True(clock.Elapsed.TotalMilliseconds / 100 < 5, $"one audit took {clock.Elapsed.TotalMilliseconds / 100:F2} ms");
    }
}
