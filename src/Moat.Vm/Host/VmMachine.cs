using Moat.Oci;

namespace Moat.Vm.Host;

/// <summary>
/// The virtual machine of one container: its size (from linux.resources), accelerator, kernel,
/// initramfs, the agent's channel, the shares and the NICs (one per interface of the container's network namespace). <see cref="QemuCommandLine"/> turns it into argv.
/// </summary>
public sealed record VmMachine(
    string Kernel,
    string Initramfs,
    int MemoryMiB,
    int Cpus,
    string Accelerator,
    string AgentSocket,
    string ConsoleLog,
    IReadOnlyList<Share> Shares,
    IReadOnlyList<Protocol.GuestInterface>? Nics = null)
{
    /// <summary>Guest memory when the config sets no limit, and above a limit: the guest kernel and the agent (measured: ~45 MB used after boot).</summary>
    public const int DefaultMemoryMiB = 256, HeadroomMiB = 96, MinimumMemoryMiB = 128;

    /// <summary>MOAT_VM_MEMORY (MiB) sets the guest's memory when the config has no limit.</summary>
    public const string MemoryVariable = "MOAT_VM_MEMORY";

    /// <summary>memory.limit plus headroom (the guest's cgroup enforces the limit itself); no limit: the default.</summary>
    public static int MemoryFor(LinuxResources? resources)
    {
        if (resources?.Memory?.Limit is { } limit and > 0)
            return Math.Max(MinimumMemoryMiB, (int)Math.Min(int.MaxValue, (limit + (1 << 20) - 1) >> 20) + HeadroomMiB);
        if (Environment.GetEnvironmentVariable(MemoryVariable) is { } text && int.TryParse(text, out var configured) && configured >= MinimumMemoryMiB)
            return configured;
        return DefaultMemoryMiB;
    }

    /// <summary>vCPUs: the CPU quota rounded up (quota/period), else the cpuset's size, else one; never more than the host has.</summary>
    public static int CpusFor(LinuxResources? resources, int hostCpus)
    {
        var cpus = 1;
        if (resources?.Cpu is { Quota: > 0 } cpu)
        {
            var period = cpu.Period is > 0 ? (long)cpu.Period.Value : 100_000;
            cpus = (int)Math.Max(1, (cpu.Quota.Value + period - 1) / period);
        }
        else if (resources?.Cpu?.Cpus is { Length: > 0 } set)
            cpus = CountCpus(set);
        return Math.Clamp(cpus, 1, Math.Max(1, hostCpus));
    }

    /// <summary>The size of a cpuset list ("0-3,6").</summary>
    public static int CountCpus(string set)
    {
        var count = 0;
        foreach (var part in set.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
                count++;
            else if (int.TryParse(part[..dash], out var first) && int.TryParse(part[(dash + 1)..], out var last) && last >= first)
                count += last - first + 1;
        }
        return Math.Max(1, count);
    }
}
