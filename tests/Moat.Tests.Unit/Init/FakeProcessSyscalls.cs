using Moat.Interop;
using Moat.Runtime.Init;

namespace Moat.Tests.Unit.Init;

/// <summary>Records every call <see cref="ProcessLaunch"/> makes, in order; the root's files and failures are staged.</summary>
internal sealed class FakeProcessSyscalls : IProcessSyscalls
{
    public List<string> Calls { get; } = [];

    /// <summary>Files that exist in the root, and whether each is executable.</summary>
    public Dictionary<string, bool> Files { get; } = [];

    public string? Passwd { get; set; }

    public int RlimitErrno { get; set; }

    public ulong CurrentHardLimit { get; set; }

    public string WorkingDirectory { get; set; } = "/";

    public Func<string, Exception?> FailWrite { get; set; } = _ => null;

    public void SetHostname(string name) => Calls.Add($"sethostname {name}");

    public void SetDomainname(string name) => Calls.Add($"setdomainname {name}");

    public void WriteFile(string path, string content)
    {
        Calls.Add($"write {path} {content}");
        if (FailWrite(path) is { } e)
            throw e;
    }

    public void SetPersonality(ulong persona, string what) => Calls.Add($"personality {persona}");

    public int SetRlimit(int resource, ulong soft, ulong hard)
    {
        Calls.Add($"prlimit {resource} {soft} {hard}");
        return RlimitErrno;
    }

    public ulong HardLimit(int resource)
    {
        Calls.Add($"getrlimit {resource}");
        return CurrentHardLimit;
    }

    public bool IsExecutableFile(string path) => Files.TryGetValue(path, out var executable) && executable;

    public bool Exists(string path) => Files.ContainsKey(path);

    public byte[]? ReadPasswd()
    {
        Calls.Add("read /etc/passwd");
        return Passwd is null ? null : System.Text.Encoding.UTF8.GetBytes(Passwd);
    }

    public void BecomeTerminalSession(FileDescriptor terminal) => Calls.Add($"terminal {terminal.Fd}");

    public void JoinSessionKeyring(string name) => Calls.Add($"keyring {name}");

    public void DropBoundingCapability(int capability) => Calls.Add($"drop bounding {capability}");

    public void MarkCloseOnExecFrom(uint first) => Calls.Add($"cloexec from {first}");

    public void LoadSeccomp() => Calls.Add("seccomp");

    public void SetKeepCapabilities(bool keep) => Calls.Add($"keepcaps {(keep ? 1 : 0)}");

    public void SetGroups(uint[] groups) => Calls.Add($"setgroups [{string.Join(',', groups)}]");

    public void SetGid(uint gid) => Calls.Add($"setresgid {gid}");

    public void SetUid(uint uid) => Calls.Add($"setresuid {uid}");

    public void SetCapabilities(ulong effective, ulong permitted, ulong inheritable) =>
        Calls.Add($"capset e=0x{effective:x} p=0x{permitted:x} i=0x{inheritable:x}");

    public void RaiseAmbientCapability(int capability) => Calls.Add($"ambient {capability}");

    public void SetUmask(uint mask) => Calls.Add($"umask {Convert.ToString(mask, 8)}");

    public void ChangeDirectory(string path) => Calls.Add($"chdir {path}");

    public string CurrentDirectory() => WorkingDirectory;

    public void SetApparmorExecProfile(string profile) => Calls.Add($"apparmor {profile}");

    public void SetSelinuxExecLabel(string label) => Calls.Add($"selinux {label}");

    public void SetNoNewPrivileges() => Calls.Add("no_new_privs");

    public int Execute(string path, List<string> args, List<string> env)
    {
        Calls.Add($"execve {path} [{string.Join(' ', args)}] [{string.Join(' ', env)}]");
        return Errors.ENOENT;
    }
}
