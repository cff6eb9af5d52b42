using Moat.Audit.Findings;

namespace Moat.Audit.Bundle.Rules;

/// <summary>MOAT-A008: no memory limit.</summary>
public sealed class NoMemoryLimit : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A008", "no memory limit", AuditSeverity.Low, "CIS 5.10",
        "Without a memory limit one container can push the host into reclaim and the OOM killer, which then picks processes of the host or of other containers.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var resources = config.Linux.Resources;
        if (resources?.Memory?.Limit is > 0) return;
        if (resources?.Unified?.TryGetValue("memory.max", out var max) == true && max != "max") return;
        sink.Add(resources?.Memory is null ? "linux.resources.memory" : "linux.resources.memory.limit", "no memory limit",
            "exhaust the host's memory: slow every workload, get host processes OOM-killed",
            new AuditFix("--memory 512m", "set linux.resources.memory.limit to a byte count (e.g. 536870912)"));
    }
}

/// <summary>MOAT-A009: no CPU limit or share.</summary>
public sealed class NoCpuLimit : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A009", "no CPU limit", AuditSeverity.Low, "CIS 5.11",
        "Without a CPU quota or weight one container can take every CPU from the others.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var resources = config.Linux.Resources;
        var cpu = resources?.Cpu;
        if (cpu is not null && (cpu.Quota is > 0 || cpu.Shares is > 0 || !string.IsNullOrEmpty(cpu.Cpus))) return;
        if (resources?.Unified is { } unified && ((unified.TryGetValue("cpu.max", out var max) && !max.StartsWith("max", StringComparison.Ordinal)) || unified.ContainsKey("cpu.weight"))) return;
        sink.Add(cpu is null ? "linux.resources.cpu" : "linux.resources.cpu.quota", "no CPU quota, weight or CPU set",
            "starve the host and the other containers of CPU time",
            new AuditFix("--cpus 1.5 (or --cpu-shares 512)", "set linux.resources.cpu.quota and period (e.g. 150000 and 100000) or linux.resources.cpu.shares"));
    }
}

/// <summary>MOAT-A010: no pids limit.</summary>
public sealed class NoPidsLimit : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A010", "no pids limit", AuditSeverity.Medium, "CIS 5.28",
        "A fork bomb in a container without a pids limit exhausts the host's process table: no one on the host, sshd included, can start a process until it is killed.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var resources = config.Linux.Resources;
        if (resources?.Pids?.Limit is > 0) return;
        if (resources?.Unified?.TryGetValue("pids.max", out var max) == true && max != "max") return;
        sink.Add(resources?.Pids is null ? "linux.resources.pids" : "linux.resources.pids.limit", "no pids limit",
            "a fork bomb that takes every process slot of the host (a host-wide denial of service)",
            new AuditFix("--pids-limit 2048", "set linux.resources.pids.limit (e.g. 2048, Podman's default)"));
    }
}

/// <summary>MOAT-A027: the OOM killer is steered away from the container.</summary>
public sealed class OomProtection : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A027", "OOM killer steered away from the container", AuditSeverity.Low, "practice",
        "A negative oom_score_adj, or a disabled OOM killer, makes the kernel kill host processes before the container's when memory runs out.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (config.Process?.OomScoreAdj is < 0 and var adj)
            sink.Add("process.oomScoreAdj", $"oom_score_adj is {adj}: the kernel prefers to kill other processes",
                "memory pressure it causes is paid by host processes, which are killed first",
                new AuditFix("remove --oom-score-adj (or give 0 or more)", "remove process.oomScoreAdj or set it to 0 or more"));
        if (config.Linux.Resources?.Memory?.DisableOomKiller == true)
            sink.Add("linux.resources.memory.disableOOMKiller", "the OOM killer is disabled for the container",
                "a container that runs out of memory hangs instead of being killed, holding its memory",
                new AuditFix("remove --oom-kill-disable", "remove linux.resources.memory.disableOOMKiller"));
    }
}

/// <summary>MOAT-A028: rlimits that lift the kernel's protections.</summary>
public sealed class RaisedRlimits : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A028", "rlimits that lift the kernel's protections", AuditSeverity.Low, "CIS 5.18",
        "Real-time priority, a nice value above the default and unlimited locked memory let one container starve or pin the host's CPUs and memory.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var limits = config.Process?.Rlimits;
        if (limits is null) return;
        for (var i = 0; i < limits.Count; i++)
        {
            var limit = limits[i];
            string? what = limit.Type switch
            {
                "RLIMIT_RTPRIO" when limit.Hard > 0 => $"real-time priority up to {limit.Hard}",
                "RLIMIT_NICE" when limit.Hard > 20 => $"nice values above the default (limit {limit.Hard})",
                "RLIMIT_MEMLOCK" when limit.Hard == Moat.Oci.Rlimits.Infinity => "unlimited locked memory",
                "RLIMIT_RTTIME" when limit.Hard == Moat.Oci.Rlimits.Infinity => "unlimited real-time CPU time",
                _ => null,
            };
            if (what is null) continue;
            sink.Add($"process.rlimits[{i}].hard", $"{limit.Type} allows {what}",
                "starve the host's CPUs or pin its memory",
                new AuditFix($"remove --ulimit {limit.Type["RLIMIT_".Length..].ToLowerInvariant()}=...", $"remove process.rlimits[{i}] or lower its hard and soft values"));
        }
    }
}
