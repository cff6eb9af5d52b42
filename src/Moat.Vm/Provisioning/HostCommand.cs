using System.Text;
using Moat.Interop;
using Moat.Runtime;

namespace Moat.Vm.Provisioning;

/// <summary>Runs a host program (apt-get, dpkg-deb, ldd, ldconfig) for provisioning: its output and its exit status.</summary>
static class HostCommand
{
    public static (int Status, string Output) Run(string program, params string[] args)
    {
        var path = Which(program) ?? throw new RuntimeException($"{program} is not installed");
        var (read, write) = Libc.Pipe();
        using var devNull = Libc.Open("/dev/null", Libc.O_RDWR);
        int pid;
        using (write)
        {
            var env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(k => k != "LD_PRELOAD").Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToList();
            pid = Libc.SpawnDetached(path, [program, .. args], env, [(devNull.Fd, 0), (write.Fd, 1), (write.Fd, 2)], newSession: false);
        }
        var output = new MemoryStream();
        using (read)
        {
            var buffer = new byte[16384];
            int n;
            while ((n = Libc.Read(read.Fd, buffer, program)) > 0)
                output.Write(buffer, 0, n);
        }
        return (Wait(pid), Encoding.UTF8.GetString(output.ToArray()));
    }

    public static unsafe int Wait(int pid)
    {
        int status;
        while (Libc.waitpid(pid, &status, 0) < 0)
            if (Errors.LastErrno != Errors.EINTR)
                return 255;
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }

    public static string? Which(string program)
    {
        if (program.Contains('/'))
            return File.Exists(program) ? program : null;
        var path = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
