using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

public sealed partial class ResourceWriter
{
    sealed partial class Pass
    {
        /// <summary>The CFS period range the kernel accepts, in microseconds (1 ms to 1 s); also the least quota.</summary>
        const ulong MinPeriod = 1000, MaxPeriod = 1000000;

        void Cpu()
        {
            if (r.Cpu is not { } cpu)
                return;
            ulong? shares = cpu.Shares is 0 ? null : cpu.Shares;
            long? quota = cpu.Quota is 0 ? null : cpu.Quota;
            ulong? period = cpu.Period is 0 ? null : cpu.Period;
            var burst = cpu.Burst;
            long? rtRuntime = cpu.RealtimeRuntime is 0 ? null : cpu.RealtimeRuntime;
            ulong? rtPeriod = cpu.RealtimePeriod is 0 ? null : cpu.RealtimePeriod;
            var idle = cpu.Idle;

            if (quota is < -1 or (> 0 and < (long)MinPeriod))
                throw Invalid($"cpu.quota ({quota}) must be -1 (unlimited) or at least {MinPeriod} microseconds");
            if (period is < MinPeriod or > MaxPeriod)
                throw Invalid($"cpu.period ({period}) must be between {MinPeriod} and {MaxPeriod} microseconds");
            if (quota is > 0 && period is null && !update)
                throw Invalid("cpu.quota is set without cpu.period");
            if (burst is { } b && quota is > 0 and var q && b > (ulong)q)
                throw Invalid($"cpu.burst ({b}) must not be larger than cpu.quota ({q})");
            if (rtRuntime is < -1)
                throw Invalid($"cpu.realtimeRuntime ({rtRuntime}) must be -1 (unlimited) or a number of microseconds");
            if (rtRuntime is > 0 and var rt && rtPeriod is { } rp && (ulong)rt > rp)
                throw Invalid($"cpu.realtimeRuntime ({rt}) must not be larger than cpu.realtimePeriod ({rp})");
            if (idle is not (null or 0 or 1))
                throw Invalid($"cpu.idle ({idle}) must be 0 or 1");

            var first = shares is not null ? "cpu.shares" : quota is not null ? "cpu.quota" : period is not null ? "cpu.period"
                : burst is not null ? "cpu.burst" : rtRuntime is not null ? "cpu.realtimeRuntime" : rtPeriod is not null ? "cpu.realtimePeriod"
                : idle is not null ? "cpu.idle" : null;
            if (first is null)
                return;
            var c = Need("cpu", first);
            if (c.IsV2)
                CpuV2(c, shares, quota, period, burst, rtRuntime, rtPeriod, idle);
            else
                CpuV1(c, shares, quota, period, burst, rtRuntime, rtPeriod, idle);
        }

        void CpuV1(CgroupController c, ulong? shares, long? quota, ulong? period, ulong? burst, long? rtRuntime, ulong? rtPeriod, long? idle)
        {
            // cpu.idle exists in cgroup v1 too since Linux 5.15 (runc writes it there as well). The
            // kernel refuses shares while the group is idle: leave idle first, enter it last.
            if (idle is 0)
                Set(c, "cpu.idle", "cpu.idle", "0");
            if (shares is { } s)
            {
                // The kernel clamps silently; runc reads the value back and fails, moat refuses up front.
                if (s is < 2 or > 262144)
                    throw Invalid($"cpu.shares ({s}) must be between 2 and 262144 (cpu.shares of cgroup v1)");
                Set(c, "cpu.shares", "cpu.shares", Str(s));
            }

            // The kernel keeps burst <= quota at every write: write the burst first when the current
            // quota already allows it, else after the quota.
            var burstFirst = false;
            if (burst is { } b)
            {
                var currentQuota = write ? ReadLong(c, "cpu.cfs_quota_us") ?? -1 : -1;
                burstFirst = quota is null || currentQuota < 0 || b <= (ulong)currentQuota;
                if (burstFirst)
                    Set(c, "cpu.burst", "cpu.cfs_burst_us", Str(b));
            }
            // A shorter period can be refused (EINVAL) while the old quota makes the ratio exceed the
            // parent's; then the quota goes first and the period is written again after it.
            var periodAgain = false;
            if (period is { } p && TrySet(c, "cpu.period", "cpu.cfs_period_us", Str(p)) is not 0 and var errno)
            {
                if (errno != Errors.EINVAL || quota is null)
                    throw WriteFailed(c, "cpu.period", "cpu.cfs_period_us", Str(p), errno);
                periodAgain = true;
            }
            if (quota is { } q)
                Set(c, "cpu.quota", "cpu.cfs_quota_us", Str(q), errno => BurstDetail(c, errno, "cpu.cfs_burst_us", q));
            if (periodAgain)
                Set(c, "cpu.period", "cpu.cfs_period_us", Str(period!.Value));
            if (burst is { } late && !burstFirst)
                Set(c, "cpu.burst", "cpu.cfs_burst_us", Str(late));

            var rtPeriodAgain = false;
            if (rtPeriod is { } rp && TrySet(c, "cpu.realtimePeriod", "cpu.rt_period_us", Str(rp)) is not 0 and var rtErrno)
            {
                if (rtErrno != Errors.EINVAL || rtRuntime is null)
                    throw WriteFailed(c, "cpu.realtimePeriod", "cpu.rt_period_us", Str(rp), rtErrno);
                rtPeriodAgain = true;
            }
            if (rtRuntime is { } rt)
                Set(c, "cpu.realtimeRuntime", "cpu.rt_runtime_us", Str(rt));
            if (rtPeriodAgain)
                Set(c, "cpu.realtimePeriod", "cpu.rt_period_us", Str(rtPeriod!.Value));

            if (idle is 1)
                Set(c, "cpu.idle", "cpu.idle", "1");
        }

        void CpuV2(CgroupController c, ulong? shares, long? quota, ulong? period, ulong? burst, long? rtRuntime, ulong? rtPeriod, long? idle)
        {
            if (rtRuntime is not null || rtPeriod is not null)
                throw Invalid($"{(rtRuntime is not null ? "cpu.realtimeRuntime" : "cpu.realtimePeriod")} is set, but cgroup v2 has no real-time CPU limits (cpu.rt_runtime_us and cpu.rt_period_us are cgroup v1 only)");
            // The kernel refuses a weight while the group is idle (EINVAL): leave idle before the
            // weight is written, enter it after.
            if (idle is 0)
                Set(c, "cpu.idle", "cpu.idle", "0");
            if (shares is { } s)
                Set(c, "cpu.shares", "cpu.weight", Str(SharesToWeight(s)));
            if (idle is 1)
                Set(c, "cpu.idle", "cpu.idle", "1");

            string? cpuMax = null;
            if (quota is not null || period is not null)
            {
                var q = quota is > 0 ? Str(quota.Value) : quota == -1 ? "max" : null;
                if (!update)
                    cpuMax = $"{q ?? "max"} {Str(period ?? 100000)}";
                else if (period is null)
                    cpuMax = q; // the kernel keeps the current period
                else
                    cpuMax = $"{q ?? CurrentQuotaV2(c)} {Str(period.Value)}";
            }
            var burstFirst = false;
            if (burst is { } b)
            {
                var current = write ? CurrentQuotaV2(c) : "max";
                burstFirst = cpuMax is null || current == "max" || ulong.TryParse(current, out var cq) && b <= cq;
                if (burstFirst)
                    Set(c, "cpu.burst", "cpu.max.burst", Str(b));
            }
            if (cpuMax is not null)
                Set(c, quota is not null ? "cpu.quota" : "cpu.period", "cpu.max", cpuMax, errno => BurstDetail(c, errno, "cpu.max.burst", quota ?? 0));
            if (burst is { } late && !burstFirst)
                Set(c, "cpu.burst", "cpu.max.burst", Str(late));
        }

        /// <summary>Why the kernel may refuse a quota: it keeps the burst at or below it.</summary>
        static string BurstDetail(CgroupController c, int errno, string burstFile, long quota) =>
            errno == Errors.EINVAL && quota > 0 && CgroupFile.TryReadUlong(c.PathOf(burstFile)) is { } current && current > (ulong)quota
                ? $" (the current {burstFile} is {current}, above the quota: set cpu.burst too)"
                : "";

        /// <summary>The quota half of cpu.max ("max" or microseconds).</summary>
        string CurrentQuotaV2(CgroupController c) =>
            CgroupFile.TryRead(c.PathOf("cpu.max"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "max";
    }
}
