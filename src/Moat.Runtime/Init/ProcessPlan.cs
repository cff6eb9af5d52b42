namespace Moat.Runtime.Init;

/// <summary>
/// The container process's own settings, decided before anything is applied (<see cref="ProcessPlanner"/>)
/// and applied by <see cref="ProcessLaunch"/>: what create applies (names, sysctls, personality,
/// oom_score_adj, rlimits), what it looks up in the finished root (the executable, HOME), and what
/// start applies on the thread that execs (keyring, capabilities, credentials, umask, cwd,
/// no_new_privs, seccomp).
/// </summary>
public sealed record ProcessPlan(
    string? Hostname,
    string? Domainname,
    IReadOnlyList<SysctlSetting> Sysctls,
    PersonalitySetting? Personality,
    int? OomScoreAdj,
    IReadOnlyList<RlimitSetting> Rlimits,
    ExecutableSetting Executable,
    string? SessionKeyring,
    CapabilityChanges Capabilities,
    ProcessCredentials Credentials,
    uint CloseOnExecFrom,
    SeccompTiming Seccomp,
    uint Umask,
    string Cwd,
    string? ApparmorProfile,
    string? SelinuxLabel,
    bool NoNewPrivileges);

/// <summary>A linux.sysctl entry and the /proc/sys file it is written to.</summary>
public sealed record SysctlSetting(string Key, string Value, string Path);

/// <summary>linux.personality: the domain's name and its persona number.</summary>
public sealed record PersonalitySetting(string Domain, ulong Persona);

/// <summary>A process.rlimits entry with its resource number.</summary>
public sealed record RlimitSetting(string Type, int Resource, ulong Soft, ulong Hard);

/// <summary>
/// process.args and process.env: args[0] is looked up (in the env's PATH when it has no slash) in
/// the finished root, and HOME is added from the root's /etc/passwd entry of <see cref="Uid"/> when
/// the env has none.
/// </summary>
public sealed record ExecutableSetting(string Program, List<string> Args, List<string>? Env, uint Uid);

/// <summary>
/// The capability sets as the runtime reduced them, with the bits the calls need: the capabilities
/// to drop from the bounding set and those to raise as ambient, up to the kernel's last one.
/// </summary>
public sealed record CapabilityChanges(CapabilitySets Sets, ulong BoundingDrops, ulong AmbientRaises);

/// <summary>The ids to change to; <see cref="Groups"/> null when setgroups must not be called (denied in the user namespace).</summary>
public sealed record ProcessCredentials(uint Uid, uint Gid, uint[]? Groups);

/// <summary>
/// When the seccomp filter is loaded. Without no_new_privs loading it needs CAP_SYS_ADMIN: before
/// the credentials change (runc's order). With it, last before execve.
/// </summary>
public enum SeccompTiming { None, BeforeCredentials, Last }
