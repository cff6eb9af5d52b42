using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

public sealed partial class ResourceWriter
{
    sealed partial class Pass
    {
        const string MemswLimit = "memory.memsw.limit_in_bytes";
        const string MemoryLimit = "memory.limit_in_bytes";

        void Memory()
        {
            if (r.Memory is not { } m)
                return;
            var limit = Bytes(m.Limit, "memory.limit");
            var reservation = Bytes(m.Reservation, "memory.reservation");
            var swap = Bytes(m.Swap, "memory.swap");
            if (m.KernelTcp is < -1)
                throw Invalid($"memory.kernelTCP ({m.KernelTcp}) must be -1 (unlimited) or a number of bytes");
            if (swap is > 0 && limit is > 0 && swap < limit)
                throw Invalid($"memory.swap ({swap}) must not be below memory.limit ({limit}): swap is the limit of memory plus swap");
            if (m.Swappiness is > 100)
                throw Invalid($"memory.swappiness ({m.Swappiness}) must be between 0 and 100");
            if (m.Kernel is not null)
                Warn("linux.resources.memory.kernel: kernel memory limits are deprecated by Linux and are ignored (as runc does)");

            // The fields that need the memory controller; disableOOMKiller=false is the default on create.
            string? first = limit is not null ? "memory.limit"
                : swap is not null ? "memory.swap"
                : reservation is not null ? "memory.reservation"
                : m.KernelTcp is not null ? "memory.kernelTCP"
                : m.Swappiness is not null ? "memory.swappiness"
                : m.DisableOomKiller == true || update && m.DisableOomKiller == false ? "memory.disableOOMKiller"
                : m.UseHierarchy is not null ? "memory.useHierarchy"
                : null;
            if (first is null)
                return;
            // On v2 some fields need no file at all: MemoryV2 asks for the controller only when it writes.
            var c = Cgroup.Controller("memory");
            if (c is { IsV2: true } || c is null && Cgroup.Host.IsPureV2)
                MemoryV2(m, limit, swap, reservation);
            else
                MemoryV1(Need("memory", first), m, limit, swap, reservation);
        }

        void MemoryV1(CgroupController c, LinuxMemory m, long? limit, long? swap, long? reservation)
        {
            // memsw is memory+swap: unlimited memory with swap unset means unlimited memsw too (runc).
            if (limit == -1 && swap is null && Has(c, MemswLimit))
                swap = -1;
            if (swap is { } s && !Has(c, MemswLimit))
            {
                if (s != -1)
                    throw MissingFile(c, "memory.swap", MemswLimit);
                swap = null; // nothing to lift
            }
            if (limit is { } l && swap is { } sw)
            {
                // The kernel keeps memory.limit <= memsw.limit at every write: raise memsw first when
                // it grows past the current limit, lower the limit first otherwise.
                var current = write ? CgroupFile.TryReadUlong(c.PathOf(MemoryLimit)) ?? ulong.MaxValue : ulong.MaxValue;
                if (sw == -1 || (ulong)sw >= current)
                {
                    Set(c, "memory.swap", MemswLimit, Str(sw));
                    SetLimitV1(c, l);
                }
                else
                {
                    SetLimitV1(c, l);
                    Set(c, "memory.swap", MemswLimit, Str(sw));
                }
            }
            else if (limit is { } onlyLimit)
                SetLimitV1(c, onlyLimit);
            else if (swap is { } onlySwap)
                Set(c, "memory.swap", MemswLimit, Str(onlySwap));

            if (reservation is { } res)
                Set(c, "memory.reservation", "memory.soft_limit_in_bytes", Str(res));
            if (m.KernelTcp is { } tcp)
                Set(c, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", Str(tcp));
            if (m.Swappiness is { } swappiness)
                Set(c, "memory.swappiness", "memory.swappiness", Str(swappiness));
            if (m.DisableOomKiller == true)
                Set(c, "memory.disableOOMKiller", "memory.oom_control", "1");
            else if (m.DisableOomKiller == false && update)
                Set(c, "memory.disableOOMKiller", "memory.oom_control", "0");
            if (m.UseHierarchy is { } hierarchy)
                Set(c, "memory.useHierarchy", "memory.use_hierarchy", hierarchy ? "1" : "0");
        }

        void SetLimitV1(CgroupController c, long limit) =>
            Set(c, "memory.limit", MemoryLimit, Str(limit), errno => errno == Errors.EBUSY ? UsageDetail(c, "memory.usage_in_bytes", "memory.max_usage_in_bytes") : "");

        static string UsageDetail(CgroupController c, string usageFile, string peakFile)
        {
            var usage = CgroupFile.TryReadUlong(c.PathOf(usageFile));
            var peak = CgroupFile.TryReadUlong(c.PathOf(peakFile));
            return usage is null ? " (the limit is below the current usage)" : $" (the limit is below the current usage: {usage} bytes, peak {peak?.ToString() ?? "unknown"})";
        }

        void MemoryV2(LinuxMemory m, long? limit, long? swap, long? reservation)
        {
            if (m.KernelTcp is not null)
                throw Invalid("memory.kernelTCP is set, but cgroup v2 has no kernel TCP memory limit (memory.kmem.tcp.limit_in_bytes is cgroup v1 only)");
            if (m.DisableOomKiller == true)
                throw Invalid("memory.disableOOMKiller is true, but cgroup v2 cannot disable the OOM killer (memory.oom_control is cgroup v1 only)");
            if (m.UseHierarchy == false)
                throw Invalid("memory.useHierarchy is false, but cgroup v2 accounting is always hierarchical");
            if (m.Swappiness is not null)
                Warn("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; ignored (as runc does)");

            // v2 limits swap alone: memory.swap.max = (memory+swap) - memory.
            long? swapOnly = null;
            if (swap is { } s)
            {
                if (s == -1 || limit == -1)
                    swapOnly = s;
                else if (limit is { } l)
                    swapOnly = s - l;
                else
                    throw Invalid($"memory.swap ({s}) is set without memory.limit: cgroup v2 limits swap apart from memory (memory.swap.max = swap - limit), so the limit is needed too");
            }
            else if (limit == -1)
                swapOnly = -1; // unlimited memory with swap unset: unlimited swap too, as on v1

            if (limit is null && swapOnly is null && reservation is null)
                return;
            var c = Need("memory", limit is not null ? "memory.limit" : swap is not null ? "memory.swap" : "memory.reservation");
            if (swapOnly is { } so)
            {
                var value = so == -1 ? "max" : Str(so);
                if (Has(c, "memory.swap.max"))
                    Set(c, "memory.swap", "memory.swap.max", value);
                else if (value == "0")
                    Warn($"linux.resources.memory.swap: {c.Directory} has no memory.swap.max (swap accounting is off), so swap cannot be limited to 0");
                else if (value != "max")
                    throw MissingFile(c, "memory.swap", "memory.swap.max");
            }
            if (limit is { } max)
                Set(c, "memory.limit", "memory.max", max == -1 ? "max" : Str(max),
                    errno => errno == Errors.EBUSY ? UsageDetail(c, "memory.current", "memory.peak") : "");
            if (reservation is { } low)
                Set(c, "memory.reservation", "memory.low", low == -1 ? "max" : Str(low));
        }
    }
}
