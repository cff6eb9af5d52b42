using Moat.Interop;

namespace Moat.Vm.Provisioning;

/// <summary>
/// Where the vm tier keeps what it provisions once per machine: the guest kernel fetched with apt and
/// the initramfs built for the running moat binary. MOAT_VM_DIR overrides it; the default is
/// /var/lib/moat/vm for root, $XDG_DATA_HOME/moat/vm (~/.local/share/moat/vm) otherwise.
/// </summary>
public sealed record VmDirectories(string Data)
{
    public const string DirectoryVariable = "MOAT_VM_DIR";

    public string Kernels => Path.Combine(Data, "kernel");
    public string Initramfs => Path.Combine(Data, "initramfs");

    public static VmDirectories Default()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
            return new VmDirectories(Path.GetFullPath(configured));
        if (Libc.geteuid() == 0)
            return new VmDirectories("/var/lib/moat/vm");
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x
            ? x
            : Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/tmp", ".local/share");
        return new VmDirectories(Path.Combine(data, "moat/vm"));
    }
}
