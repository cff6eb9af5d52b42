using Moat.Interop;

namespace Moat.Runtime.Init;

/// <summary>
/// The system calls <see cref="ProcessLaunch"/> applies a <see cref="ProcessPlan"/> with:
/// <see cref="ProcessSyscalls"/> over Moat.Interop in the init, a recording fake in the unit tests.
/// Failures throw <see cref="SyscallException"/> unless a return value says otherwise.
/// </summary>
public interface IProcessSyscalls
{
    void SetHostname(string name);

    void SetDomainname(string name);

    /// <summary>A small file written in one write(2): a sysctl, oom_score_adj.</summary>
    void WriteFile(string path, string content);

    void SetPersonality(ulong persona, string what);

    /// <summary>prlimit(2) on this process; 0, or the errno.</summary>
    int SetRlimit(int resource, ulong soft, ulong hard);

    ulong HardLimit(int resource);

    /// <summary>Whether the path is a file this process may execute (in the finished root).</summary>
    bool IsExecutableFile(string path);

    bool Exists(string path);

    /// <summary>The root's /etc/passwd, or null when it cannot be read.</summary>
    byte[]? ReadPasswd();

    /// <summary>The pty slave becomes the controlling terminal and stdio.</summary>
    void BecomeTerminalSession(FileDescriptor terminal);

    /// <summary>A new session keyring of this name, searchable by the container's user.</summary>
    void JoinSessionKeyring(string name);

    void DropBoundingCapability(int capability);

    void MarkCloseOnExecFrom(uint first);

    /// <summary>Loads the container's seccomp filter (and hands its listener descriptor over).</summary>
    void LoadSeccomp();

    void SetKeepCapabilities(bool keep);

    void SetGroups(uint[] groups);

    void SetGid(uint gid);

    void SetUid(uint uid);

    void SetCapabilities(ulong effective, ulong permitted, ulong inheritable);

    void RaiseAmbientCapability(int capability);

    void SetUmask(uint mask);

    void ChangeDirectory(string path);

    string CurrentDirectory();

    void SetApparmorExecProfile(string profile);

    void SetSelinuxExecLabel(string label);

    void SetNoNewPrivileges();

    /// <summary>Applies the init message's Landlock ruleset, if it has one (the sandbox tier).</summary>
    void ApplyLandlock()
    {
    }

    /// <summary>execve(2); returns only on failure, with the errno.</summary>
    int Execute(string path, List<string> args, List<string> env);
}
