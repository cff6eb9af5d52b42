using Moat.Interop;
using Moat.Vm.Provisioning;

namespace Moat.Vm.Host;

/// <summary>
/// Whether /dev/kvm can boot the guest kernel. It can open and still not: on the development
/// machine (2026-12-03, a paravirtual KVM) QEMU with <c>-cpu host</c> aborts setting MSR 0x10a, and
/// with <c>-cpu max</c> the kernel hangs after "Probing EDD"; the cgroup v2 lane met the same. One
/// short boot decides, as the lane's does: the kernel alone, with the machine and CPU a container's
/// VM gets, no initramfs, must reach its "cannot mount root" panic, which ends QEMU (panic=-1,
/// -no-reboot). A working KVM gets there in about a second; <see cref="Limit"/> only bounds a hang.
/// The verdict is kept in the data directory for this boot of the host and this kernel image.
/// </summary>
public static class KvmProbe
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    const string PanicLine = "VFS: Unable to mount root fs";

    public static bool Boots(VmDirectories dirs, string kernel, Action<string> progress)
    {
        var key = $"{Libc.TryReadText("/proc/sys/kernel/random/boot_id")?.Trim()} {kernel}";
        var verdictFile = Path.Combine(dirs.Data, "kvm-verdict");
        if (Libc.TryReadText(verdictFile) is { } kept && kept.Split('\n') is [var keptKey, var keptVerdict, ..] && keptKey == key)
            return keptVerdict == "boots";
        progress("checking that /dev/kvm can boot the guest kernel (once per boot of this host)");
        var boots = Probe(dirs, kernel);
        Directory.CreateDirectory(dirs.Data);
        // Creates running at once may both probe: each writes a whole file of its own, then renames.
        var temporary = $"{verdictFile}.{Environment.ProcessId}";
        File.WriteAllText(temporary, $"{key}\n{(boots ? "boots" : "fails")}\n");
        File.Move(temporary, verdictFile, overwrite: true);
        return boots;
    }

    static unsafe bool Probe(VmDirectories dirs, string kernel)
    {
        var qemu = HostCommand.Which(QemuCommandLine.Binary);
        if (qemu is null)
            return false;
        Directory.CreateDirectory(dirs.Data);
        var console = Path.Combine(dirs.Data, $"kvm-probe.{Environment.ProcessId}.log");
        string[] argv =
        [
            QemuCommandLine.Binary, .. QemuCommandLine.MachineArguments("kvm"),
            "-smp", "1", "-m", "128M", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", $"file:{console}", "-monitor", "none", "-kernel", kernel,
            "-append", "console=ttyS0 loglevel=1 panic=-1 reboot=t 8250.nr_uarts=1",
        ];
        try
        {
            int pid;
            using (var devNull = Libc.Open("/dev/null", Libc.O_RDWR))
                pid = Libc.SpawnDetached(qemu, argv, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], [(devNull.Fd, 0), (devNull.Fd, 1), (devNull.Fd, 2)], newSession: false);
            var deadline = DateTime.UtcNow + Limit;
            int status;
            while (Libc.waitpid(pid, &status, Libc.WNOHANG) != pid)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Libc.kill(pid, Libc.SIGKILL);
                    HostCommand.Wait(pid);
                    return false;
                }
                Thread.Sleep(20);
            }
            return status == 0 && (Libc.TryReadText(console) ?? "").Contains(PanicLine, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(console);
        }
    }
}
