using Moat.Oci;

namespace Moat.Audit.Seccomp;

/// <summary>How one profile treats one system call.</summary>
public sealed record SyscallVerdict(SyscallVerdictKind Kind, string Detail)
{
    public override string ToString() => Detail;
}

public enum SyscallVerdictKind
{
    Refused = 0,
    /// <summary>Allowed only when its arguments match.</summary>
    Conditional = 1,
    Allowed = 2,
}

/// <summary>One call the first profile allows more of than the second.</summary>
public sealed record ProfileDifference(string Syscall, SyscallVerdict Profile, SyscallVerdict Baseline);

/// <summary>
/// What a profile allows beyond another: for every call either names (or every call libseccomp knows,
/// when a default action allows), the verdict of each, and the rows where the first is looser. A call
/// is allowed when some rule without conditions allows it (ALLOW or LOG), conditional when only rules
/// with argument conditions do, refused otherwise; the default action decides for calls no rule names.
/// </summary>
public static class ProfileDiff
{
    public static IReadOnlyList<ProfileDifference> Beyond(LinuxSeccomp profile, LinuxSeccomp baseline, IEnumerable<string> knownNames)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in new[] { profile, baseline })
        {
            foreach (var rule in p.Syscalls ?? [])
                names.UnionWith(rule.Names);
            if (Allows(p.DefaultAction))
                names.UnionWith(knownNames);
        }
        var result = new List<ProfileDifference>();
        foreach (var name in names)
        {
            var (a, b) = (VerdictOf(profile, name), VerdictOf(baseline, name));
            if (a.Kind > b.Kind || (a.Kind == SyscallVerdictKind.Conditional && b.Kind == SyscallVerdictKind.Conditional && a.Detail != b.Detail))
                result.Add(new ProfileDifference(name, a, b));
        }
        return result;
    }

    /// <summary>Architectures the profile filters that the baseline does not (a call from those passes only the baseline's bad-arch action).</summary>
    public static IReadOnlyList<string> ArchitecturesBeyond(LinuxSeccomp profile, LinuxSeccomp baseline) =>
        (profile.Architectures ?? []).Except(baseline.Architectures ?? [], StringComparer.Ordinal).ToList();

    public static SyscallVerdict VerdictOf(LinuxSeccomp profile, string name)
    {
        var rules = (profile.Syscalls ?? []).Where(r => r.Names.Contains(name, StringComparer.Ordinal)).ToList();
        if (rules.Any(r => Allows(r.Action) && (r.Args is null || r.Args.Count == 0)))
            return new SyscallVerdict(SyscallVerdictKind.Allowed, "allowed");
        var conditional = rules.Where(r => Allows(r.Action) && r.Args is { Count: > 0 }).ToList();
        if (conditional.Count > 0)
            return new SyscallVerdict(SyscallVerdictKind.Conditional,
                "allowed if " + string.Join(" or ", conditional.Select(r => string.Join(" and ", r.Args!.Select(Describe)))));
        var refusing = rules.FirstOrDefault(r => r.Args is null || r.Args.Count == 0);
        if (refusing is not null)
            return new SyscallVerdict(SyscallVerdictKind.Refused, ActionText(refusing.Action, refusing.ErrnoRet));
        return Allows(profile.DefaultAction)
            ? new SyscallVerdict(SyscallVerdictKind.Allowed, "allowed (default)")
            : new SyscallVerdict(SyscallVerdictKind.Refused, ActionText(profile.DefaultAction, profile.DefaultErrnoRet) + " (default)");
    }

    static bool Allows(string action) => action is SeccompNames.ActAllow or SeccompNames.ActLog;

    static string ActionText(string action, uint? errno) => action switch
    {
        SeccompNames.ActErrno => $"errno {errno ?? 1}",
        SeccompNames.ActNotify => "notify",
        _ => action.StartsWith("SCMP_ACT_", StringComparison.Ordinal) ? action[9..].ToLowerInvariant() : action,
    };

    static string Describe(LinuxSeccompArg arg) => arg.Op switch
    {
        "SCMP_CMP_EQ" => $"arg{arg.Index} == {Number(arg.Value)}",
        "SCMP_CMP_NE" => $"arg{arg.Index} != {Number(arg.Value)}",
        "SCMP_CMP_LT" => $"arg{arg.Index} < {Number(arg.Value)}",
        "SCMP_CMP_LE" => $"arg{arg.Index} <= {Number(arg.Value)}",
        "SCMP_CMP_GT" => $"arg{arg.Index} > {Number(arg.Value)}",
        "SCMP_CMP_GE" => $"arg{arg.Index} >= {Number(arg.Value)}",
        "SCMP_CMP_MASKED_EQ" => $"arg{arg.Index} & {Number(arg.Value)} == {Number(arg.ValueTwo)}",
        _ => $"arg{arg.Index} {arg.Op} {arg.Value}",
    };

    static string Number(ulong value) => value < 4096 ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"0x{value:x}";
}
