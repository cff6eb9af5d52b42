using Moat.Audit.Findings;

namespace Moat.Audit.Host.Checks;

/// <summary>MOAT-H012: Moat's state and storage directories are root's alone.</summary>
public sealed class StateDirectoryPermissions : HostCheck
{
    public static readonly string[] Directories = ["/run/moat", "/var/lib/moat"];

    public override RuleInfo Info { get; } = new("MOAT-H012", "Moat's state or storage directory open to others", AuditSeverity.High, "CIS 3.x (file permissions of the engine's files)",
        "/run/moat holds container state and the runtime's sockets, /var/lib/moat the images and container layers: whoever can write there changes what runs as root; whoever can read them reads every container's configuration and files.");

    public override void Check(HostFacts host, FindingSink sink)
    {
        var present = 0;
        foreach (var directory in Directories)
        {
            if (host.Files.Stat(directory) is not { } stat) continue;
            present++;
            var mode = stat.Mode & 0xFFF;
            var fix = new AuditFix("none", $"chown root:root {directory} && chmod 0700 {directory}");
            if ((mode & 0x2) != 0)
                sink.Add(AuditSeverity.Critical, directory, $"{directory} is writable by every user (mode {Octal(mode)})", "replace container state, images or layers: code run as root", fix);
            else if ((mode & 0x10) != 0 && stat.Gid != 0)
                sink.Add(AuditSeverity.High, directory, $"{directory} is writable by group {host.GroupName(stat.Gid) ?? stat.Gid.ToString()} (mode {Octal(mode)})", "members of the group change what runs as root", fix);
            else if (stat.Uid != 0)
                sink.Add(AuditSeverity.High, directory, $"{directory} is owned by uid {stat.Uid}, not root", "its owner changes what runs as root", fix);
            else if ((mode & 0x4) != 0)
                sink.Add(AuditSeverity.Medium, directory, $"{directory} is readable by every user (mode {Octal(mode)})", "read every container's configuration (environment secrets) and files", fix);
        }
        if (present == 0) sink.NotApplicable("neither /run/moat nor /var/lib/moat exists");
    }

    public static string Octal(uint mode) => Convert.ToString(mode, 8).PadLeft(4, '0');
}

/// <summary>MOAT-H013: container engines' API sockets only for root.</summary>
public sealed class EngineSocketPermissions : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H013", "container engine socket open to others", AuditSeverity.Critical, "CIS 3.15, CIS 3.16 (docker.sock ownership and mode)",
        "Whoever can connect to a container engine's socket is root on the host (it starts a privileged container). A group with access (docker) is root-equivalent: reported low, so the choice is seen.");

    public override void Check(HostFacts host, FindingSink sink)
    {
        var present = 0;
        foreach (var socket in Bundle.Rules.HostPaths.EngineSockets)
        {
            if (host.Files.Stat(socket) is not { } stat) continue;
            present++;
            var mode = stat.Mode & 0xFFF;
            var fix = new AuditFix("none", $"chown root:root {socket} && chmod 0600 {socket} (for docker: remove users from the docker group, or use rootless mode)");
            if ((mode & 0x2) != 0)
                sink.Add(socket, $"{socket} is writable by every user (mode {StateDirectoryPermissions.Octal(mode)})", "any local user is root on the host", fix);
            else if (stat.Uid != 0)
                sink.Add(AuditSeverity.High, socket, $"{socket} is owned by uid {stat.Uid}, not root", "its owner is root on the host", fix);
            else if ((mode & 0x10) != 0 && stat.Gid != 0)
                sink.Add(AuditSeverity.Low, socket, $"members of group {host.GroupName(stat.Gid) ?? stat.Gid.ToString()} can use {socket}", "every member of the group is root-equivalent", fix);
        }
        if (present == 0) sink.NotApplicable("no container engine socket is present");
    }
}

/// <summary>MOAT-H014: the runtime binary cannot be replaced by anyone but root.</summary>
public sealed class RuntimeBinaryPermissions : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H014", "runtime binary writable by others", AuditSeverity.Critical, "practice",
        "moat-runtime runs as root for every container: whoever can rewrite it runs code as root the next time a container starts.");

    public override void Check(HostFacts host, FindingSink sink)
    {
        if (host.RuntimeBinary is not { } path || host.Files.Stat(path) is not { } stat)
        {
            sink.NotApplicable("no moat-runtime was found (next to moat, or on PATH)");
            return;
        }
        var mode = stat.Mode & 0xFFF;
        var fix = new AuditFix("none", $"chown root:root {path} && chmod 0755 {path}");
        if ((mode & 0x2) != 0)
            sink.Add(path, $"{path} is writable by every user (mode {StateDirectoryPermissions.Octal(mode)})", "any local user runs code as root at the next container start", fix);
        else if ((mode & 0x10) != 0 && stat.Gid != 0)
            sink.Add(AuditSeverity.High, path, $"{path} is writable by group {host.GroupName(stat.Gid) ?? stat.Gid.ToString()}", "members of the group run code as root", fix);
        else if (stat.Uid != 0)
            sink.Add(AuditSeverity.Medium, path, $"{path} is owned by uid {stat.Uid}, not root", "its owner runs code as root at the next container start", fix);
    }
}

/// <summary>MOAT-H015: the runtime binary is built with PIE, full RELRO and a non-executable stack.</summary>
public sealed class RuntimeBinaryHardening : HostCheck
{
    public override RuleInfo Info { get; } = new("MOAT-H015", "runtime binary without exploit mitigations", AuditSeverity.Medium, "practice (PIE, RELRO, NX)",
        "The runtime parses untrusted configs as root; PIE (address randomization), full RELRO (read-only relocations) and NX (no executable stack) make a memory bug in it much harder to exploit.");

    public override void Check(HostFacts host, FindingSink sink)
    {
        if (host.RuntimeBinary is not { } path || host.Files.Stat(path) is null)
        {
            sink.NotApplicable("no moat-runtime was found (next to moat, or on PATH)");
            return;
        }
        if (ElfHardening.Read(host.Files, path, out var problem) is not { } elf)
        {
            sink.Add(AuditSeverity.Low, path, $"{path} cannot be inspected: {problem}", "unknown", new AuditFix("none", "install moat-runtime from a build of this repository (make build)"));
            return;
        }
        const string Rebuild = "rebuild with the linker flags -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack (NativeAOT: <LinkerArg Include=\"...\" />)";
        if (!elf.NonExecutableStack)
            sink.Add(AuditSeverity.High, path, $"{path} has an executable stack", "shellcode on the stack runs: a stack overflow becomes code execution as root", new AuditFix("none", Rebuild));
        if (!elf.Pie)
            sink.Add(path, $"{path} is not position-independent (no ASLR for its code)", "fixed code addresses for return-oriented programming", new AuditFix("none", Rebuild));
        if (!elf.Relro)
            sink.Add(path, $"{path} has no RELRO", "overwrite the GOT to redirect calls", new AuditFix("none", Rebuild));
        else if (!elf.FullRelro)
            sink.Add(AuditSeverity.Low, path, $"{path} has partial RELRO (no BIND_NOW)", "overwrite lazily bound GOT entries", new AuditFix("none", Rebuild));
    }
}
