using Moat.Oci;

namespace Moat.Images.Bundles;

/// <summary>linux.resources from the options: memory, CPU, pids and the device cgroup.</summary>
internal static class ResourceSettings
{
    public static LinuxResources For(BundleOptions options) => new()
    {
        Devices = DeviceSettings.Rules(options),
        Pids = options.PidsLimit > 0 ? new LinuxPids { Limit = options.PidsLimit } : null,
        Memory = Memory(options),
        Cpu = Cpu(options),
    };

    static LinuxMemory? Memory(BundleOptions options)
    {
        if (options.MemoryLimit is null && options.MemorySwap is null && options.MemoryReservation is null)
            return null;
        // Docker's default swap: as much again as the memory limit (memory+swap = twice the limit).
        var swap = options.MemorySwap ?? (options.MemoryLimit is { } limit ? limit * 2 : null);
        return new LinuxMemory { Limit = options.MemoryLimit, Swap = swap, Reservation = options.MemoryReservation };
    }

    static LinuxCpu? Cpu(BundleOptions options)
    {
        if (options.CpuQuota is null && options.CpuPeriod is null && options.CpuShares is null && options.CpusetCpus is null && options.CpusetMems is null)
            return null;
        return new LinuxCpu
        {
            Quota = options.CpuQuota,
            Period = options.CpuPeriod,
            Shares = options.CpuShares,
            Cpus = options.CpusetCpus,
            Mems = options.CpusetMems,
        };
    }
}
