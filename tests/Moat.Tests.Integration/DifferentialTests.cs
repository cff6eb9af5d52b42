using System.Text;
using System.Text.Json.Nodes;
using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// The same bundle (one config.json, one rootfs directory) run under runc, the reference runtime, and
/// under moat: what the container observes from inside must be the same. One probe script prints
/// every observation as a section; each section is normalised only where the two runtimes
/// legitimately differ, and every differing section is reported at once with both outputs.
/// </summary>
public sealed class DifferentialTests
{
    /// <summary>Prints one "@@ name" header per section. It only reads: the bundle's root is read-only.</summary>
    const string Probe = """
        echo '@@ uts'; hostname; cat /proc/sys/kernel/domainname
        echo '@@ id'; id
        echo '@@ status'; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
        echo '@@ ns'; for n in pid net mnt ipc uts cgroup user; do echo "$n $(readlink /proc/self/ns/$n)"; done
        echo '@@ mountinfo'; cat /proc/self/mountinfo
        echo '@@ dev'; ls -lan /dev
        echo '@@ ulimit'; ulimit -n; ulimit -Hn
        echo '@@ cgroup'; cat /proc/self/cgroup
        echo '@@ cwd'; umask; pwd
        """;

    static readonly string[] Namespaces = ["pid", "net", "mnt", "ipc", "uts", "cgroup", "user"];

    /// <summary>The mounts whose per-mount options (mountinfo field 6) are compared.</summary>
    static readonly string[] OptionMounts = ["/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"];

    [Fact]
    public void DefaultBundleLooksTheSameFromInside()
    {
        using var bundle = new TestBundle();
        // Beyond `moat spec`'s defaults: a domain name and a working directory other than /, so that
        // both are set by the runtime rather than inherited.
        bundle.Spec.Domainname = "example.test";
        bundle.Spec.Process!.Cwd = "/tmp";
        var (runc, moat) = RunBoth(bundle);

        var compare = new Comparison(runc, moat);
        compare.Section("uts", "hostname and domainname", HostAndDomainName);
        // The same /etc/passwd and /etc/group in the same rootfs: the output is the same text.
        compare.Section("id", "`id`", Verbatim);
        compare.Section("status", "capability sets, NoNewPrivs and Seccomp in /proc/self/status", Verbatim);
        // Namespace inode numbers are per instance; only whether each is the host's own is comparable.
        compare.Section("ns", "namespaces shared with the host", NamespaceSharing);
        compare.Section("mountinfo", "mount points and filesystem types (mountinfo fields 5 and 9, sorted)", MountTable);
        compare.Section("mountinfo", "per-mount options (mountinfo field 6) of " + string.Join(' ', OptionMounts), MountOptions);
        compare.Section("dev", "/dev (type+mode owner name major,minor or link target)", DeviceListing);
        compare.Section("ulimit", "RLIMIT_NOFILE soft and hard", Verbatim);
        compare.Section("cgroup", "/proc/self/cgroup: entry count and whether each path is the cgroup namespace's root", CgroupPaths);
        compare.Section("cwd", "umask and working directory", Verbatim);
        compare.AssertSame();
    }

    [Fact]
    public void UserNamespaceBundleLooksTheSameFromInside()
    {
        using var bundle = new TestBundle();
        var linux = bundle.Spec.Linux!;
        linux.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.User });
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 300000, Size = 65536 }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 300000, Size = 65536 }];
        // The mapped root (host uid 300000) must be able to traverse the bundle to reach its rootfs;
        // TestBundle makes it 0755 already, this makes the requirement explicit.
        File.SetUnixFileMode(bundle.Directory, (UnixFileMode)Convert.ToInt32("755", 8));
        var (runc, moat) = RunBoth(bundle);

        var compare = new Comparison(runc, moat);
        compare.Section("id", "`id`", Verbatim);
        compare.Section("status", "capability sets, NoNewPrivs and Seccomp in /proc/self/status", Verbatim);
        compare.Section("ns", "namespaces shared with the host", NamespaceSharing);
        compare.AssertSame();
    }

    /// <summary>
    /// The bundle exactly as `runc spec` (runc 1.1.2 and later) writes it, but for the probe and no
    /// terminal: its ambient set equals the others and it has no inheritable set, so the kernel
    /// raises none of them. runc runs it with CapAmb 0; moat failed with "prctl raise ambient
    /// capability: Operation not permitted" (exit 127). Now moat drops them with a warning each and
    /// the container sees what it sees under runc.
    /// </summary>
    [Fact]
    public void BundleMadeByRuncSpecLooksTheSameFromInside()
    {
        using var bundle = new TestBundle();
        MoatCli.Exec(RuncCli.Binary, ["spec", "--bundle", bundle.Directory]).Ok();
        var configPath = Path.Combine(bundle.Directory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["process"]!["terminal"] = false;
        config["process"]!["args"] = new JsonArray("sh", "-c", Probe);
        File.WriteAllText(configPath, config.ToJsonString());
        Assert.Null(config["process"]!["capabilities"]!["inheritable"]);
        Assert.NotNull(config["process"]!["capabilities"]!["ambient"]);

        var (runcOut, moatOut, moatStderr) = RunBothAsWritten(bundle);

        var compare = new Comparison(Observation.Parse(runcOut), Observation.Parse(moatOut));
        compare.Section("status", "capability sets, NoNewPrivs and Seccomp in /proc/self/status", Verbatim);
        compare.Section("id", "`id`", Verbatim);
        compare.Section("ns", "namespaces shared with the host", NamespaceSharing);
        compare.Section("cwd", "umask and working directory", Verbatim);
        compare.AssertSame();
        foreach (var name in config["process"]!["capabilities"]!["ambient"]!.AsArray())
            Assert.Contains($"moat: warning: process.capabilities.ambient: {name} is not both inheritable and permitted, so it cannot be ambient; dropped", moatStderr);
    }

    /// <summary>
    /// `moat-runtime spec`'s default (issue 18): runc's config in a user namespace that maps container root
    /// to unprivileged host ids. Both runtimes run it as written, and the container sees the same ids,
    /// capabilities, namespaces and map; its root is not the host's.
    /// </summary>
    [Fact]
    public void BundleMadeByMoatSpecRunsInAUserNamespaceAsUnderRunc()
    {
        using var bundle = new TestBundle();
        var configPath = Path.Combine(bundle.Directory, "config.json");
        File.Delete(configPath);
        var spec = MoatCli.Exec(MoatCli.Binary, ["spec", "--bundle", bundle.Directory]).Ok();
        Assert.Contains("note: ", spec.Stderr);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["process"]!["terminal"] = false;
        config["process"]!["args"] = new JsonArray("sh", "-c", Probe + "\necho '@@ map'; cat /proc/self/uid_map /proc/self/gid_map\n");
        File.WriteAllText(configPath, config.ToJsonString());

        var (runcOut, moatOut, _) = RunBothAsWritten(bundle);

        var compare = new Comparison(Observation.Parse(runcOut), Observation.Parse(moatOut));
        compare.Section("status", "capability sets, NoNewPrivs and Seccomp in /proc/self/status", Verbatim);
        compare.Section("id", "`id`", Verbatim);
        compare.Section("ns", "namespaces shared with the host", NamespaceSharing);
        compare.Section("map", "the user namespace's maps", Verbatim);
        compare.AssertSame();
        var map = Observation.Parse(moatOut)["map"];
        Assert.Contains($"0 {Moat.Oci.DefaultSpec.MappedRootHostId} {Moat.Oci.DefaultSpec.MappedRootSize}", string.Join(" ", map.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>
    /// issue 13: bind sources below a directory only host root may enter, in a container whose root is
    /// host uid 100000. runc (1.1 and later) opens such sources before its init joins the user namespace;
    /// both runtimes must mount them and show the same files, readable as their modes allow.
    /// </summary>
    [Fact]
    public void BindSourceOnlyHostRootCanReachLooksTheSameUnderAUserNamespace()
    {
        using var bundle = new TestBundle();
        FilesystemTests.UseUserNamespace(bundle, 100000);
        var hidden = FilesystemTests.AddBindsBelowAHostRootOnlyDirectory(bundle);
        try
        {
            var (runc, moat) = RunBoth(bundle, FilesystemTests.ReadBindsBelowAHostRootOnlyDirectory);
            Assert.Equal(runc, moat);
            Assert.Contains("visible", moat);
        }
        finally
        {
            Directory.Delete(hidden, recursive: true);
        }
    }

    [Fact]
    public void ExecLooksTheSameFromInside()
    {
        // Without --process, runc's exec runs the container's process with the command's args: every
        // process setting of the config reaches the exec'd process too.
        using var bundle = new TestBundle("sleep", "1000");
        var process = bundle.Spec.Process!;
        process.Cwd = "/tmp";
        process.OomScoreAdj = 123;
        // Not user.umask: runc 1.1 sets it only in the container's init, an exec keeps runc's own (moat
        // gives the exec the config's; ExecTests checks that on its own).
        process.User.AdditionalGids = [5, 7];
        // Not RLIMIT_NOFILE: runc 1.1 built with Go 1.19+ loses it on exec (Go's start-up raises the
        // soft limit to the hard one after runc's prlimit; runc PR #4265 fixed that in 1.2). Moat
        // applies it; ExecTests checks that on its own.
        process.Rlimits = [new PosixRlimit { Type = "RLIMIT_NPROC", Soft = 512, Hard = 1024 }];
        bundle.Write();
        using var runc = new RuncCli();
        var runcId = runc.CreateAndStart(bundle.Directory);
        var moatId = bundle.NewId("diff-exec");
        MoatCli.Run("create", "--bundle", bundle.Directory, moatId).Ok();
        MoatCli.Run("start", moatId).Ok();
        var byRunc = runc.Exec(runcId, "sh", "-c", ExecProbe);
        var byMoat = MoatCli.Run("exec", moatId, "sh", "-c", ExecProbe);
        if (byRunc.ExitCode != 0 || byMoat.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"the probe must succeed under both runtimes\n--- runc: {byRunc}\n--- moat: {byMoat}");

        var compare = new Comparison(Observation.Parse(byRunc.Stdout), Observation.Parse(byMoat.Stdout));
        compare.Section("oom", "/proc/self/oom_score_adj", Verbatim);
        compare.Section("id", "`id`", Verbatim);
        compare.Section("status", "capability sets, NoNewPrivs and Seccomp in /proc/self/status", Verbatim);
        compare.Section("ulimit", "RLIMIT_NPROC soft and hard", Verbatim);
        compare.Section("cwd", "umask and working directory", Verbatim);
        compare.Section("tty", "whether stdin is a terminal", Verbatim);
        compare.AssertSame();
    }

    const string ExecProbe = """
        echo '@@ oom'; cat /proc/self/oom_score_adj
        echo '@@ id'; id
        echo '@@ status'; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
        echo '@@ ulimit'; ulimit -u; ulimit -Hu
        echo '@@ cwd'; umask; pwd
        echo '@@ tty'; [ -t 0 ] && echo terminal || echo "not a terminal"
        """;

    /// <summary>What the runtime does for the process beyond the config: its session, HOME, and lo.</summary>
    const string ProcessProbe = """
        echo '@@ session'; cut -d' ' -f5,6 /proc/$$/stat
        echo '@@ home'; echo "$HOME"; env | grep -c '^HOME='
        echo '@@ loopback'; cat /sys/class/net/lo/flags; ip -o link show lo | grep -o '<[^>]*>'
        """;

    /// <summary>
    /// Set-up runc does that the config does not spell out: the process leads a session and process
    /// group of its own (setsid: its pgrp and sid are 1, the first process of the pid namespace,
    /// where a shared session shows the caller's as 0), HOME comes from the container's /etc/passwd
    /// (root is listed with /root, uid 1000 is not listed: /), and the new network namespace's lo is up.
    /// </summary>
    [Theory]
    [InlineData(0u)]
    [InlineData(1000u)]
    public void SessionHomeAndLoopbackAreTheSame(uint uid)
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.User = new User { Uid = uid, Gid = uid };
        var (runc, moat) = RunBoth(bundle, ProcessProbe);

        var compare = new Comparison(Observation.Parse(runc), Observation.Parse(moat));
        compare.Section("session", "process group and session of the container's first process (/proc/$$/stat fields 5 and 6)", Verbatim);
        compare.Section("home", "HOME and how often it is set", Verbatim);
        compare.Section("loopback", "lo's flags (sysfs and ip link)", Verbatim);
        compare.AssertSame();
    }

    /// <summary>Runs the probe once under each runtime, with the same config.json and rootfs.</summary>
    static (Observation Runc, Observation Moat) RunBoth(TestBundle bundle)
    {
        var (runc, moat) = RunBoth(bundle, Probe);
        return (Observation.Parse(runc), Observation.Parse(moat));
    }

    /// <summary>Runs `sh -c script` once under each runtime, with the same config.json and rootfs; both must succeed.</summary>
    static (string Runc, string Moat) RunBoth(TestBundle bundle, string script)
    {
        bundle.Args("sh", "-c", script);
        bundle.Write();
        var (runc, moat, _) = RunBothAsWritten(bundle);
        return (runc, moat);
    }

    /// <summary>Runs the bundle's config.json as it is on disk under each runtime.</summary>
    static (string Runc, string Moat, string MoatStderr) RunBothAsWritten(TestBundle bundle)
    {
        using var runc = new RuncCli();
        var byRunc = runc.Run(bundle.Directory);
        var byMoat = MoatCli.Run("run", "--bundle", bundle.Directory, bundle.NewId("diff"));
        if (byRunc.ExitCode != 0 || byMoat.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"the script must succeed under both runtimes\n--- runc: {byRunc}\n--- moat: {byMoat}");
        return (byRunc.Stdout, byMoat.Stdout, byMoat.Stderr);
    }

    static string Verbatim(string section) => section;

    /// <summary>
    /// Both lines as printed, except that runc before 1.2 has no support for the config's domainname (it
    /// came with runc 1.2.0, "Implement to set a domainname") and silently leaves the new UTS namespace's
    /// "(none)": with such a runc there is no reference for the domain name, so that line is dropped on
    /// both sides. IsolationTests.HostnameAndDomainnameComeFromTheConfig checks moat's on its own.
    /// </summary>
    static string HostAndDomainName(string section) =>
        RuncCli.Version < new Version(1, 2) ? Lines(section)[0] + " (domainname not compared: runc " + RuncCli.Version + " ignores it)" : section;

    static string NamespaceSharing(string section)
    {
        var inside = Lines(section).Select(l => l.Split(' ', 2)).ToDictionary(f => f[0], f => f.Length > 1 ? f[1] : "");
        return string.Join('\n', Namespaces.Select(n =>
        {
            var host = new FileInfo($"/proc/self/ns/{n}").LinkTarget;
            return !inside.TryGetValue(n, out var link) || link.Length == 0 ? $"{n}: unreadable"
                : $"{n}: {(link == host ? "the host's" : "its own")}";
        }));
    }

    static string MountTable(string section) => string.Join('\n', ParseMountinfo(section)
        // runc-only behaviour (1.1.5, and still so upstream): on a cgroup v1 host, runc's cgroup mount binds
        // or mounts only the hierarchies cgroups.GetCgroupMounts(false) returns, which are those of
        // filesystem type "cgroup"; the cgroup2 hierarchy a hybrid host mounts at /sys/fs/cgroup/unified is
        // never mounted in the container. moat mounts it too; that is not the difference under test.
        .Where(m => !(m.MountPoint == "/sys/fs/cgroup/unified" && m.Type == "cgroup2"))
        .Select(m => $"{m.MountPoint} {m.Type}")
        .Order(StringComparer.Ordinal));

    static string MountOptions(string section)
    {
        var mounts = ParseMountinfo(section).ToList();
        // The topmost mount at a path is the one listed last.
        return string.Join('\n', OptionMounts.Select(point =>
            mounts.LastOrDefault(m => m.MountPoint == point) is { } m ? $"{point} {m.Options}" : $"{point} (not a mount point)"));
    }

    sealed record MountEntry(string MountPoint, string Options, string Type);

    /// <summary>
    /// mountinfo: "id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions";
    /// the optional fields vary in number, so the type is the field after the "-" separator.
    /// </summary>
    static IEnumerable<MountEntry> ParseMountinfo(string section)
    {
        foreach (var line in Lines(section))
        {
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-", 6);
            if (separator < 0 || separator + 1 >= fields.Length)
                throw new Xunit.Sdk.XunitException($"not a mountinfo line: {line}");
            yield return new MountEntry(fields[4], fields[5], fields[separator + 1]);
        }
    }

    /// <summary>
    /// busybox `ls -lan` lines to "mode owner name major,minor" (devices) or "mode owner name -> target"
    /// (links): dates, sizes and link counts are when and how the runtime built /dev, not what it built.
    /// </summary>
    static string DeviceListing(string section) => string.Join('\n', Lines(section)
        .Where(l => !l.StartsWith("total ", StringComparison.Ordinal))
        .Select(l =>
        {
            var t = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var mode = t[0];
            var owner = $"{t[2]}:{t[3]}";
            return mode[0] switch
            {
                'c' or 'b' => $"{mode} {owner} {t[^1]} {t[4].TrimEnd(',')},{t[5]}",
                'l' => $"{mode} {owner} {t[^3]} -> {t[^1]}",
                _ => $"{mode} {owner} {t[^1]}",
            };
        })
        .Order(StringComparer.Ordinal));

    /// <summary>
    /// The number of hierarchies the process is in, and for each whether its path is "/". Both runtimes
    /// create a cgroup namespace, rooted at the container's own cgroup, so every path inside should be "/";
    /// the paths themselves are the runtimes' choice of cgroup names.
    /// </summary>
    static string CgroupPaths(string section)
    {
        var entries = Lines(section).Select(l => l.Split(':', 3)).ToList();
        return $"{entries.Count} entries\n" + string.Join('\n', entries.Select(e =>
            $"{e[0]}:{e[1]} {(e.Length == 3 && e[2] == "/" ? "at the namespace root" : "NOT at the namespace root")}"));
    }

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The probe's output split at its "@@ name" headers.</summary>
    sealed class Observation
    {
        readonly Dictionary<string, string> sections = [];

        public static Observation Parse(string stdout)
        {
            var observation = new Observation();
            string? name = null;
            var text = new StringBuilder();
            foreach (var line in stdout.Split('\n'))
            {
                if (line.StartsWith("@@ ", StringComparison.Ordinal))
                {
                    if (name is not null)
                        observation.sections[name] = text.ToString();
                    name = line[3..];
                    text.Clear();
                }
                else if (name is not null)
                {
                    text.Append(line).Append('\n');
                }
            }
            if (name is not null)
                observation.sections[name] = text.ToString();
            return observation;
        }

        public string this[string name] => sections.TryGetValue(name, out var text)
            ? text
            : throw new Xunit.Sdk.XunitException($"the probe printed no section {name}");
    }

    /// <summary>Collects every differing section, then fails once with all of them.</summary>
    sealed class Comparison(Observation runc, Observation moat)
    {
        readonly List<string> differences = [];

        public void Section(string name, string what, Func<string, string> normalise)
        {
            var byRunc = normalise(runc[name]).TrimEnd('\n');
            var byMoat = normalise(moat[name]).TrimEnd('\n');
            if (byRunc == byMoat)
                return;
            var runcLines = Lines(byRunc).ToList();
            var moatLines = Lines(byMoat).ToList();
            differences.Add($"""
                ===== {what} (section "{name}") differs
                --- runc, normalised:
                {byRunc}
                --- moat, normalised:
                {byMoat}
                --- only under runc:
                {string.Join('\n', Without(runcLines, moatLines))}
                --- only under moat:
                {string.Join('\n', Without(moatLines, runcLines))}
                --- runc, raw:
                {runc[name].TrimEnd('\n')}
                --- moat, raw:
                {moat[name].TrimEnd('\n')}
                """);
        }

        /// <summary>The lines of <paramref name="these"/> not matched one for one in <paramref name="those"/>.</summary>
        static List<string> Without(List<string> these, List<string> those)
        {
            var left = new List<string>(those);
            return these.Where(l => !left.Remove(l)).ToList();
        }

        public void AssertSame()
        {
            if (differences.Count > 0)
                throw new Xunit.Sdk.XunitException(
                    $"moat and runc differ in {differences.Count} observation(s) of the same bundle:\n" + string.Join("\n\n", differences));
        }
    }
}
