using Moat.Audit.Findings;
using Moat.Audit.Host.Checks;

namespace Moat.Audit.Host;

/// <summary>Audits the machine containers run on: kernel, LSMs, hardening sysctls, cgroups and Moat's own files. Reads only.</summary>
public static class HostAuditor
{
    public static IReadOnlyList<HostCheck> Checks { get; } = BuildChecks();

    static HostCheck[] BuildChecks()
    {
        HostCheck[] checks =
        [
            new KernelEscapeCves(), new LsmActive(), new UnprivilegedUserNamespaces(), .. HardeningSysctl.All(),
            new CgroupV2(), new MemoryAccounting(), new StateDirectoryPermissions(), new EngineSocketPermissions(),
            new RuntimeBinaryPermissions(), new RuntimeBinaryHardening(),
        ];
        Array.Sort(checks, (a, b) => string.CompareOrdinal(a.Info.Id, b.Info.Id));
        return checks;
    }

    public static IReadOnlyList<RuleInfo> RuleInfos { get; } = Checks.Select(c => c.Info).ToArray();

    /// <summary>Runs every check over <paramref name="files"/>; <paramref name="runtimeBinary"/> is a host path or null.</summary>
    public static AuditReport Audit(IHostFiles files, string? runtimeBinary)
    {
        var facts = new HostFacts(files, runtimeBinary);
        var sink = new FindingSink();
        foreach (var check in Checks)
        {
            sink.Begin(check.Info);
            check.Check(facts, sink);
            sink.End();
        }
        return new AuditReport("host", RuleInfos, sink.Outcomes, sink.Findings);
    }

    /// <summary>
    /// The moat-runtime the engine would run: next to this program (bin/moat beside bin/moat-runtime), else the
    /// first on PATH; null when there is none.
    /// </summary>
    public static string? FindRuntimeBinary(string? programDirectory, string? pathVariable)
    {
        if (programDirectory is not null && Path.Combine(programDirectory, "moat-runtime") is var beside && File.Exists(beside))
            return Path.GetFullPath(beside);
        foreach (var directory in (pathVariable ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (Path.Combine(directory, "moat-runtime") is var candidate && File.Exists(candidate))
                return Path.GetFullPath(candidate);
        return null;
    }
}
