using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Tests.Audit.Bundle;

/// <summary>A tight config that passes every rule, and helpers to loosen one thing at a time.</summary>
public static class Configs
{
    /// <summary>Non-root in a user namespace, read-only root, Docker's defaults, limits, a confining profile: no finding at all.</summary>
    public static Spec Tight()
    {
        var spec = Moat.Runtime.Api.ContainerRuntime.DefaultConfig(Moat.Runtime.Api.DefaultConfigKind.HostRoot);
        var linux = spec.Linux!;
        spec.Process!.User = new User { Uid = 1000, Gid = 1000 };
        spec.Process.ApparmorProfile = "docker-default";
        linux.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.User });
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
        if (!linux.MaskedPaths!.Contains("/proc/interrupts"))
            linux.MaskedPaths.Add("/proc/interrupts");
        linux.Resources = new LinuxResources
        {
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }, new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" }],
            Memory = new LinuxMemory { Limit = 512L << 20 },
            Cpu = new LinuxCpu { Quota = 100000, Period = 100000 },
            Pids = new LinuxPids { Limit = 2048 },
        };
        return spec;
    }

    public static AuditReport Audit(Spec spec) => SpecAuditor.Audit(spec, "test");

    public static IReadOnlyList<AuditFinding> Findings(Spec spec, string ruleId) => Audit(spec).Findings.Where(f => f.Rule.Id == ruleId).ToList();
}
