using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Audit.Bundle.Rules;

/// <summary>MOAT-A018: a sensitive host path bind-mounted (read-only: high; writable: critical).</summary>
public sealed class SensitiveHostMount : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A018", "sensitive host path mounted", AuditSeverity.Critical, "CIS 5.5",
        "Host system directories (/, /etc, /proc, /sys, /dev, /boot, /lib/modules, the engines' state) hold the host's secrets and its configuration; mounted writable they are a direct path to root on the host.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var mounts = config.Spec.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
        {
            var mount = mounts[i];
            if (!SpecFacts.IsBind(mount) || string.IsNullOrEmpty(mount.Source) || !mount.Source.StartsWith('/')) continue;
            if (HostPaths.WhySensitive(mount.Source, mount.Destination) is not { } why) continue;
            var readOnly = SpecFacts.IsReadOnly(mount);
            var severity = readOnly ? AuditSeverity.High : AuditSeverity.Critical;
            // In a user namespace that separates root, the files are reached as the mapped unprivileged host user.
            sink.Add(config.UserNamespaceSeparatesRoot ? severity.Softened() : severity, $"mounts[{i}].source",
                $"{why} is mounted {(readOnly ? "read-only" : "read-write")} at {mount.Destination}",
                readOnly ? "read the host's secrets (/etc/shadow, keys, other containers' files)"
                    : "write the host's files (cron jobs, /etc/passwd, binaries, kernel settings): root on the host",
                new AuditFix($"remove -v {mount.Source}:{mount.Destination}; mount only the directory the program needs, with :ro",
                    $"remove mounts[{i}], or point its source at an application directory and add \"ro\" to its options"));
        }
    }
}

/// <summary>MOAT-A019: a container engine's API socket mounted (whatever the ro flag: connecting is not writing).</summary>
public sealed class EngineSocketMount : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A019", "container engine socket mounted", AuditSeverity.Critical, "CIS 5.31",
        "Whoever can talk to a container engine's API can start a privileged container with the host's root mounted: the socket is root on the host, read-only mount or not.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var mounts = config.Spec.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
        {
            var mount = mounts[i];
            if (!SpecFacts.IsBind(mount) || string.IsNullOrEmpty(mount.Source)) continue;
            if (HostPaths.EngineSocket(mount.Source) is not { } socket) continue;
            sink.Add($"mounts[{i}].source", $"{mount.Source} ({socket}) is mounted at {mount.Destination}",
                "start a privileged container with the host's / mounted: root on the host",
                new AuditFix($"remove -v {mount.Source}:{mount.Destination}; give the program a narrower API (an authorizing proxy) if it must manage containers",
                    $"remove mounts[{i}]"));
        }
    }
}

/// <summary>MOAT-A025: shared propagation between the host and the container.</summary>
public sealed class SharedPropagation : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A025", "shared mount propagation", AuditSeverity.Medium, "CIS 5.19",
        "With shared propagation a mount made inside the container appears on the host (and the reverse): the container can stack mounts over host paths.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var mounts = config.Spec.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
        {
            var options = mounts[i].Options;
            if (options is null || !SpecFacts.IsBind(mounts[i])) continue;
            var index = options.FindIndex(o => o is "shared" or "rshared");
            if (index < 0) continue;
            sink.Add($"mounts[{i}].options[{index}]", $"{mounts[i].Destination} propagates mounts to and from the host ({options[index]})",
                "mounts made in the container appear on the host, over host paths",
                new AuditFix($"-v {mounts[i].Source}:{mounts[i].Destination}:rprivate (not :shared or :rshared)",
                    $"replace \"{options[index]}\" by \"rprivate\" in mounts[{i}].options"));
        }
        if (config.Linux.RootfsPropagation is "shared" or "rshared")
            sink.Add("linux.rootfsPropagation", $"the root file system's propagation is {config.Linux.RootfsPropagation}",
                "mounts made in the container propagate to the host",
                new AuditFix("none: engines do not set this unless asked", "set linux.rootfsPropagation to \"private\" or \"slave\", or remove it"));
    }
}

/// <summary>MOAT-A029: sysfs or cgroupfs mounted writable (as --privileged does).</summary>
public sealed class WritableKernelFilesystem : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A029", "sysfs or cgroupfs mounted read-write", AuditSeverity.High, "practice (what Docker and Podman do without --privileged)",
        "A writable /sys reaches host-wide kernel settings (/sys/kernel/uevent_helper runs a program as host root); a writable cgroup v1 hierarchy offers release_agent (CVE-2022-0492).");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var mounts = config.Spec.Mounts ?? [];
        var separated = config.UserNamespaceSeparatesRoot;
        for (var i = 0; i < mounts.Count; i++)
        {
            var mount = mounts[i];
            if (mount.Type is not ("sysfs" or "cgroup" or "cgroup2") || SpecFacts.IsReadOnly(mount)) continue;
            var sysfs = mount.Type == "sysfs";
            var severity = sysfs ? AuditSeverity.High : AuditSeverity.Medium;
            sink.Add(separated ? severity.Softened() : severity, mount.Options is null ? $"mounts[{i}]" : $"mounts[{i}].options",
                $"{mount.Type} is mounted read-write at {mount.Destination}",
                sysfs ? "write host-wide kernel settings under /sys (uevent_helper: a program run as host root)"
                    : "change the container's own limits; on cgroup v1, a release_agent run as host root (CVE-2022-0492)",
                new AuditFix("remove --privileged (the engines then mount it read-only)", $"add \"ro\" to mounts[{i}].options"));
        }
    }
}

/// <summary>MOAT-A030: hooks, which the runtime runs on the host as root.</summary>
public sealed class HostHooks : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A030", "hooks run programs on the host", AuditSeverity.Low, "practice",
        "prestart, createRuntime, poststart and poststop hooks run as root in the runtime's namespaces, on the host: a bundle from someone else can run anything there.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var hooks = config.Spec.Hooks;
        if (hooks is null) return;
        Report(hooks.Prestart, "prestart");
        Report(hooks.CreateRuntime, "createRuntime");
        Report(hooks.Poststart, "poststart");
        Report(hooks.Poststop, "poststop");

        void Report(List<Hook>? list, string name)
        {
            for (var i = 0; i < (list?.Count ?? 0); i++)
                sink.Add($"hooks.{name}[{i}].path", $"the {name} hook {list![i].Path} runs on the host as root",
                    "whatever the bundle's author put in the hook runs as host root",
                    new AuditFix("remove the hook from the engine's hooks directory (podman --hooks-dir)", $"remove hooks.{name}[{i}] unless you trust {list[i].Path}"));
        }
    }
}
