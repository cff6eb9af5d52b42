namespace Moat.Runtime.Cgroups;

/// <summary>
/// Tells when the kernel's OOM killer killed a process of the container, by polling the count of
/// OOM kills of its memory cgroup: "oom_kill N" in memory.events on cgroup v2 (which counts the
/// cgroup's descendants too), and in memory.oom_control on cgroup v1 (Linux 4.13 and later).
/// </summary>
public sealed class OomWatcher
{
    readonly CgroupController memory;
    long seen;

    /// <summary>Starts watching; the kills that happened before count as seen.</summary>
    public OomWatcher(ContainerCgroup cgroup)
    {
        memory = cgroup.Controller("memory", out var missing)
                 ?? throw new RuntimeException($"cannot watch the container for OOM kills: {missing}");
        seen = TryOomKillCount() ?? 0;
    }

    /// <summary>The file the count is read from.</summary>
    public string EventsFile => memory.PathOf(memory.IsV2 ? "memory.events" : "memory.oom_control");

    /// <summary>How many processes of the container the OOM killer has killed so far.</summary>
    public long OomKillCount() =>
        TryOomKillCount() ?? throw new RuntimeException(
            File.Exists(EventsFile)
                ? $"{EventsFile} has no oom_kill count (it needs Linux 4.13 or later)"
                : $"cannot read {EventsFile}: the container's memory cgroup does not exist");

    /// <summary>The count, or null when the file or its oom_kill line is missing.</summary>
    public long? TryOomKillCount() =>
        CgroupFile.TryReadKey(EventsFile, "oom_kill") is { } count ? (long)Math.Min(count, long.MaxValue) : null;

    /// <summary>
    /// On v1, whether the cgroup is under OOM right now (under_oom 1: with the OOM killer disabled,
    /// its processes wait for memory); on v2 there is no such state and this is false.
    /// </summary>
    public bool UnderOom() =>
        !memory.IsV2 && CgroupFile.TryReadKey(EventsFile, "under_oom") is > 0;

    /// <summary>The OOM kills since the last call (or since the watcher was made); 0 when none.</summary>
    public long NewOomKills()
    {
        var count = OomKillCount();
        var added = Math.Max(0, count - seen);
        seen = count;
        return added;
    }
}
