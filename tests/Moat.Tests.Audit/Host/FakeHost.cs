namespace Moat.Tests.Audit.Host;

/// <summary>A fake host tree in a temp directory: /proc/sys, /sys, /run... files written by the test, removed after.</summary>
public sealed class FakeHost : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("moat-audit-host-").FullName;

    public FakeHost Write(string hostPath, string text)
    {
        var path = Path.Join(Root, hostPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text + "\n");
        return this;
    }

    public FakeHost Sysctl(string name, long value) => Write("/proc/sys/" + name.Replace('.', '/'), value.ToString());

    public string MakeDirectory(string hostPath, UnixFileMode mode)
    {
        var path = Path.Join(Root, hostPath);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    /// <summary>A hardened host: everything a check wants, so each test loosens one thing.</summary>
    public static FakeHost Hardened()
    {
        var host = new FakeHost()
            .Write("/proc/sys/kernel/osrelease", "6.8.12")
            .Write("/sys/kernel/security/lsm", "lockdown,capability,landlock,yama,apparmor,bpf")
            .Sysctl("user.max_user_namespaces", 0)
            .Sysctl("kernel.unprivileged_bpf_disabled", 2)
            .Sysctl("kernel.kptr_restrict", 1)
            .Sysctl("kernel.dmesg_restrict", 1)
            .Sysctl("kernel.yama.ptrace_scope", 1)
            .Sysctl("kernel.perf_event_paranoid", 2)
            .Sysctl("net.core.bpf_jit_harden", 2)
            .Write("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
        host.MakeDirectory("/run/moat", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        host.MakeDirectory("/var/lib/moat", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return host;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
