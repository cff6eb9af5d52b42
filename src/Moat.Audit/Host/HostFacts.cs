namespace Moat.Audit.Host;

/// <summary>What the host checks read: the files, and where the runtime binary is (null when none was found).</summary>
public sealed class HostFacts(IHostFiles files, string? runtimeBinary)
{
    public IHostFiles Files { get; } = files;
    public string? RuntimeBinary { get; } = runtimeBinary;

    /// <summary>A sysctl by its dotted name (kernel.kptr_restrict) read from /proc/sys; null when the kernel does not have it.</summary>
    public long? Sysctl(string name) =>
        long.TryParse(Files.ReadText(SysctlPath(name))?.Trim(), out var value) ? value : null;

    public static string SysctlPath(string name) => "/proc/sys/" + name.Replace('.', '/');

    public string? GroupName(uint gid)
    {
        foreach (var line in (Files.ReadText("/etc/group") ?? "").Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[2] == gid.ToString()) return fields[0];
        }
        return null;
    }
}

/// <summary>One check of the host.</summary>
public abstract class HostCheck
{
    public abstract Findings.RuleInfo Info { get; }

    public abstract void Check(HostFacts host, Findings.FindingSink sink);
}
