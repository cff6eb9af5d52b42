using Moat.Oci;
using Moat.Runtime.Protocol;
using Moat.Runtime.Create;

namespace Moat.Runtime.Init;

/// <summary>
/// Decides the container process's settings from the init message and the namespaces. Pure: the
/// one fact of the system it needs (is setgroups denied in the user namespace) is passed in.
/// </summary>
public static class ProcessPlanner
{
    public static ProcessPlan Plan(InitMessage init, NamespacePlan namespaces, bool setgroupsDenied)
    {
        var spec = init.Spec;
        var process = spec.Process ?? throw new RuntimeException("process: the config has no process");
        if (process.Args is not { Count: > 0 } args)
            throw new RuntimeException("process.args: the config names no program");

        // An exec joins a container that is set up already: only the process's own settings apply.
        string? hostname = null, domainname = null;
        var sysctls = new List<SysctlSetting>();
        PersonalitySetting? personality = null;
        if (!init.Exec)
        {
            if (namespaces.NewUts || JoinsUts(namespaces))
            {
                hostname = string.IsNullOrEmpty(spec.Hostname) ? null : spec.Hostname;
                domainname = string.IsNullOrEmpty(spec.Domainname) ? null : spec.Domainname;
            }
            foreach (var (key, value) in spec.Linux?.Sysctl ?? [])
                sysctls.Add(new SysctlSetting(key, value, "/proc/sys/" + key.Replace('.', '/')));
            if (spec.Linux?.Personality is { } persona)
                personality = new PersonalitySetting(persona.Domain, persona.Domain switch
                {
                    "LINUX" => 0,
                    "LINUX32" => 8,
                    _ => throw new RuntimeException($"linux.personality.domain \"{persona.Domain}\" is not LINUX or LINUX32"),
                });
        }

        var rlimits = new List<RlimitSetting>(process.Rlimits?.Count ?? 0);
        foreach (var rlimit in process.Rlimits ?? [])
            rlimits.Add(new RlimitSetting(rlimit.Type, Rlimits.GetNumber(rlimit.Type), rlimit.Soft, rlimit.Hard));

        // Reduced by the runtime to what can be granted (it warned about the rest): the calls succeed.
        var caps = init.Capabilities;
        var known = init.LastCapability >= 63 ? ulong.MaxValue : (1UL << (init.LastCapability + 1)) - 1;
        var capabilities = new CapabilityChanges(caps, ~caps.Bounding & known, caps.Ambient & known);

        var user = process.User;
        uint[]? groups = [.. user.AdditionalGids ?? []];
        // In a user namespace with setgroups denied, only an empty list is acceptable and needs no call.
        if (setgroupsDenied)
        {
            if (groups.Length > 0)
                throw new RuntimeException("process.user.additionalGids cannot be set: setgroups is denied in this user namespace");
            groups = null;
        }

        var seccomp = init.Seccomp is null ? SeccompTiming.None
            : process.NoNewPrivileges ? SeccompTiming.Last : SeccompTiming.BeforeCredentials;
        return new ProcessPlan(
            hostname,
            domainname,
            sysctls,
            personality,
            process.OomScoreAdj,
            rlimits,
            new ExecutableSetting(args[0], args, process.Env, user.Uid),
            init.NoNewKeyring ? null : "_ses." + init.Id,
            capabilities,
            new ProcessCredentials(user.Uid, user.Gid, groups),
            (uint)(3 + init.PreserveFds),
            seccomp,
            user.Umask ?? 0x12 /* 022 */,
            string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd,
            string.IsNullOrEmpty(process.ApparmorProfile) ? null : process.ApparmorProfile,
            string.IsNullOrEmpty(process.SelinuxLabel) ? null : process.SelinuxLabel,
            process.NoNewPrivileges);
    }

    static bool JoinsUts(NamespacePlan namespaces)
    {
        foreach (var join in namespaces.Joins)
            if (join.Type == NamespaceType.Uts)
                return true;
        return false;
    }
}
