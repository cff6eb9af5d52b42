using Moat.Engine.Run;
using Moat.Engine.Run.Flags;
using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.RunFlags;

/// <summary>Each value grammar of run's flags: good values and the exact sentence for bad ones.</summary>
public class GrammarTests
{
    [Theory]
    [InlineData("100", 100L)]
    [InlineData("1b", 1L)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("512m", 512L * 1024 * 1024)]
    [InlineData("2g", 2L * 1024 * 1024 * 1024)]
    [InlineData("1.5g", 1536L * 1024 * 1024)]
    [InlineData("64MiB", 64L * 1024 * 1024)]
    [InlineData("64 MB", 64L * 1024 * 1024)]
    [InlineData("1T", 1L << 40)]
    public void Sizes(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text, "--memory"));

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("12x")]
    [InlineData("-1m")]
    [InlineData("1,5g")]
    public void BadSizes(string text) =>
        Assert.Equal($"--memory \"{text}\" is not a size (a number with an optional unit b, k, m or g, such as 512m)",
            Assert.Throws<RunFlagException>(() => ByteSize.Parse(text, "--memory")).Message);

    [Fact]
    public void LogSizesCountInThousands() => Assert.Equal(10_000_000, ByteSize.ParseDecimal("10m", "--log-opt max-size"));

    [Theory]
    [InlineData("0", 0)]
    [InlineData("30s", 30_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("500ms", 500)]
    [InlineData("2h45m10s", 9_910_000)]
    [InlineData("1500us", 1.5)]
    [InlineData("-5s", -5000)]
    public void Durations(string text, double milliseconds) => Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), GoDuration.Parse(text, "--health-interval"));

    [Theory]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("1d")]
    [InlineData("1m30")]
    [InlineData("")]
    public void BadDurations(string text) =>
        Assert.Equal($"--health-interval \"{text}\" is not a duration (a number and a unit: ns, us, ms, s, m, h, e.g. 1m30s)",
            Assert.Throws<RunFlagException>(() => GoDuration.Parse(text, "--health-interval")).Message);

    public static TheoryData<string, string, string?, string, bool, string[]> Volumes => new()
    {
        { "/data", "volume", null, "/data", false, [] },
        { "/data:ro", "volume", null, "/data", true, [] },
        { "cache:/var/cache", "volume", "cache", "/var/cache", false, [] },
        { "cache:/var/cache:ro,nocopy", "volume", "cache", "/var/cache", true, ["nocopy"] },
        { "/srv/www:/usr/share/nginx/html:ro", "bind", "/srv/www", "/usr/share/nginx/html", true, ["rbind", "rprivate"] },
        { "/srv:/srv:rw,rshared", "bind", "/srv", "/srv", false, ["rbind", "rshared"] },
        { "/srv:/srv:Z", "bind", "/srv", "/srv", false, ["rbind", "rprivate", "Z"] },
        { "/srv:/srv:z,slave,noexec", "bind", "/srv", "/srv", false, ["rbind", "noexec", "slave", "z"] },
        { "/srv:/srv/./x/../y/", "bind", "/srv", "/srv/y", false, ["rbind", "rprivate"] },
        { "/srv:/srv:cached", "bind", "/srv", "/srv", false, ["rbind", "rprivate"] },
    };

    [Theory]
    [MemberData(nameof(Volumes))]
    public void VolumeFlags(string text, string type, string? source, string target, bool readOnly, string[] options)
    {
        var mount = MountFlags.ParseVolume(text);
        Assert.Equal((type, source, target, readOnly), (mount.Type, mount.Source, mount.Target, mount.ReadOnly));
        Assert.Equal(options, mount.Options);
    }

    [Theory]
    [InlineData("./data:/data", "-v \"./data:/data\": the host path \"./data\" is relative; give it as an absolute path")]
    [InlineData("data/x:/data", "-v \"data/x:/data\": the host path \"data/x\" is relative; give it as an absolute path")]
    [InlineData("~/x:/data", "-v \"~/x:/data\": the host path \"~/x\" is relative; give it as an absolute path")]
    [InlineData("a:/data", "-v \"a:/data\": \"a\" is not a volume name (letters, digits, '_', '.', '-', at least 2 characters, starting with a letter or digit) nor an absolute host path")]
    [InlineData("/srv:data", "-v \"/srv:data\": the destination \"data\" is not an absolute path")]
    [InlineData("/srv:/", "-v \"/srv:/\": the destination cannot be /")]
    [InlineData("/srv:/x:rx", "-v \"/srv:/x:rx\": unknown option \"rx\" (ro, rw, z, Z, nocopy, private, rprivate, shared, rshared, slave, rslave)")]
    [InlineData("/srv:/x:ro,rw", "-v \"/srv:/x:ro,rw\" gives ro or rw twice")]
    [InlineData("/srv:/x:shared,slave", "-v \"/srv:/x:shared,slave\" gives the propagation twice")]
    [InlineData("/srv:/x:nocopy", "-v \"/srv:/x:nocopy\": nocopy is only for volumes, not for a host path")]
    [InlineData("vol:/x:rshared", "-v \"vol:/x:rshared\": propagation (rshared) is only for a host path")]
    [InlineData("/a:/b:ro:x", "-v \"/a:/b:ro:x\" is not SOURCE:DESTINATION[:OPTIONS] (too many ':')")]
    [InlineData(":/x", "-v \":/x\" has an empty source before the ':'")]
    public void BadVolumes(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => MountFlags.ParseVolume(text)).Message);

    public static TheoryData<string, string, string?, string, bool, string[]> Mounts => new()
    {
        { "type=bind,source=/srv,target=/app", "bind", "/srv", "/app", false, ["rbind", "rprivate"] },
        { "type=bind,src=/srv,dst=/app,readonly,bind-propagation=rslave", "bind", "/srv", "/app", true, ["rbind", "rslave"] },
        { "type=bind,source=/srv,destination=/app,ro=true,bind-nonrecursive", "bind", "/srv", "/app", true, ["bind", "rprivate"] },
        { "type=volume,source=myvol,target=/data", "volume", "myvol", "/data", false, [] },
        { "source=myvol,target=/data,volume-nocopy", "volume", "myvol", "/data", false, ["nocopy"] },
        { "target=/data", "volume", null, "/data", false, [] },
        { "type=tmpfs,target=/run,tmpfs-size=64m,tmpfs-mode=1770", "tmpfs", null, "/run", false, ["nosuid", "nodev", "noexec", "size=67108864", "mode=1770"] },
        { "type=bind,\"source=/a,b\",target=/x,readonly=false", "bind", "/a,b", "/x", false, ["rbind", "rprivate"] },
    };

    [Theory]
    [MemberData(nameof(Mounts))]
    public void MountFlagValues(string text, string type, string? source, string target, bool readOnly, string[] options)
    {
        var mount = MountFlags.ParseMount(text);
        Assert.Equal((type, source, target, readOnly), (mount.Type, mount.Source, mount.Target, mount.ReadOnly));
        Assert.Equal(options, mount.Options);
    }

    [Theory]
    [InlineData("type=bind,target=/x", "--mount \"type=bind,target=/x\": a bind mount needs a source (source=/host/path)")]
    [InlineData("type=bind,source=srv,target=/x", "--mount \"type=bind,source=srv,target=/x\": the bind source \"srv\" is not an absolute host path")]
    [InlineData("type=nfs,target=/x", "--mount \"type=nfs,target=/x\": type \"nfs\" is not bind, volume or tmpfs")]
    [InlineData("type=volume,source=v", "--mount \"type=volume,source=v\" has no target (target=/path/in/container)")]
    [InlineData("type=volume,target=/x,bind-propagation=shared", "--mount \"type=volume,target=/x,bind-propagation=shared\": bind-* options do not go with type=volume")]
    [InlineData("type=tmpfs,source=x,target=/x", "--mount \"type=tmpfs,source=x,target=/x\": a tmpfs mount takes no source")]
    [InlineData("type=tmpfs,target=/x,tmpfs-mode=999", "--mount \"type=tmpfs,target=/x,tmpfs-mode=999\": tmpfs-mode \"999\" is not an octal file mode such as 1777")]
    [InlineData("type=bind,source=/a,target=/x,readonly=yes", "--mount \"type=bind,source=/a,target=/x,readonly=yes\": readonly=\"yes\" is not true or false")]
    [InlineData("type=bind,source=/a,target=/x,color=red", "--mount \"type=bind,source=/a,target=/x,color=red\": unknown key \"color\"")]
    public void BadMounts(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => MountFlags.ParseMount(text)).Message);

    [Theory]
    [InlineData("/run", new[] { "nosuid", "nodev", "noexec" }, false)]
    [InlineData("/run:rw,size=64m,mode=1777", new[] { "nosuid", "nodev", "noexec", "size=67108864", "mode=1777" }, false)]
    [InlineData("/tmp:exec,size=50%", new[] { "nosuid", "nodev", "exec", "size=50%" }, false)]
    [InlineData("/ro:ro,uid=1000", new[] { "nosuid", "nodev", "noexec", "uid=1000" }, true)]
    public void TmpfsFlags(string text, string[] options, bool readOnly)
    {
        var mount = MountFlags.ParseTmpfs(text);
        Assert.Equal(("tmpfs", readOnly), (mount.Type, mount.ReadOnly));
        Assert.Equal(options, mount.Options);
    }

    [Theory]
    [InlineData("run", "--tmpfs \"run\": the destination \"run\" is not an absolute path")]
    [InlineData("/run:sise=1m", "--tmpfs \"/run:sise=1m\": unknown tmpfs option \"sise\"")]
    [InlineData("/run:mode=abc", "--tmpfs \"/run:mode=abc\": mode \"abc\" is not an octal file mode such as 1777")]
    [InlineData("/run:size", "--tmpfs \"/run:size\": size needs a value")]
    [InlineData("/run:noexec=1", "--tmpfs \"/run:noexec=1\": noexec takes no value")]
    public void BadTmpfs(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => MountFlags.ParseTmpfs(text)).Message);

    [Theory]
    [InlineData("nofile=1024", "RLIMIT_NOFILE", 1024UL, 1024UL)]
    [InlineData("nofile=1024:2048", "RLIMIT_NOFILE", 1024UL, 2048UL)]
    [InlineData("nproc=-1", "RLIMIT_NPROC", ulong.MaxValue, ulong.MaxValue)]
    [InlineData("core=0:unlimited", "RLIMIT_CORE", 0UL, ulong.MaxValue)]
    [InlineData("memlock=64", "RLIMIT_MEMLOCK", 64UL, 64UL)]
    public void UlimitValues(string text, string type, ulong soft, ulong hard) =>
        Assert.Equal(new Moat.Images.Bundles.Ulimit(type, soft, hard), Ulimits.Parse(text));

    [Theory]
    [InlineData("nofile", "--ulimit \"nofile\" is not NAME=SOFT[:HARD] (e.g. nofile=1024:2048)")]
    [InlineData("files=1", "--ulimit \"files=1\": unknown limit \"files\" (known: as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)")]
    [InlineData("nofile=2048:1024", "--ulimit \"nofile=2048:1024\": the soft limit 2048 is above the hard limit 1024")]
    [InlineData("nofile=x", "--ulimit \"nofile=x\": \"x\" is not a number (or -1 for unlimited)")]
    [InlineData("nofile=1:2:3", "--ulimit \"nofile=1:2:3\" is not NAME=SOFT[:HARD]")]
    public void BadUlimits(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => Ulimits.Parse(text)).Message);

    [Theory]
    [InlineData("no", "no", 0)]
    [InlineData("always", "always", 0)]
    [InlineData("unless-stopped", "unless-stopped", 0)]
    [InlineData("on-failure", "on-failure", 0)]
    [InlineData("on-failure:5", "on-failure", 5)]
    public void RestartPolicies(string text, string name, int retries)
    {
        var policy = Restart.Parse(text);
        Assert.Equal((name, retries), (policy.Name, policy.MaximumRetryCount));
    }

    [Theory]
    [InlineData("sometimes", "--restart \"sometimes\" is not no, on-failure[:N], always or unless-stopped")]
    [InlineData("always:3", "--restart \"always:3\": only on-failure takes a retry count")]
    [InlineData("on-failure:-1", "--restart \"on-failure:-1\": the retry count \"-1\" is not a number of 0 or more")]
    public void BadRestartPolicies(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => Restart.Parse(text)).Message);

    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("term", 15)]
    [InlineData("9", 9)]
    [InlineData("SIGQUIT", 3)]
    [InlineData("SIGRTMIN+3", 37)]
    [InlineData("RTMAX-1", 63)]
    [InlineData("SIGWINCH", 28)]
    public void SignalValues(string text, int number) => Assert.Equal(number, Signals.Parse(text, "--stop-signal"));

    [Theory]
    [InlineData("SIGFOO")]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("")]
    public void BadSignals(string text) =>
        Assert.Equal($"--stop-signal \"{text}\" is not a signal (a name such as SIGTERM or a number from 1 to 64)",
            Assert.Throws<RunFlagException>(() => Signals.Parse(text, "--stop-signal")).Message);

    [Theory]
    [InlineData("1.5", 150_000L)]
    [InlineData("2", 200_000L)]
    [InlineData("0.01", 1_000L)]
    public void CpuQuotas(string text, long quota) => Assert.Equal(quota, Cpus.Quota(text, hostCpus: 2));

    [Theory]
    [InlineData("3", "--cpus 3 is more than this host has: the range is 0.01 to 2")]
    [InlineData("0", "--cpus 0 leaves the container no CPU time (give at least 0.01)")]
    [InlineData("half", "--cpus \"half\" is not a number of CPUs (e.g. 1.5)")]
    [InlineData("0.001", "--cpus 0.001 is below the smallest quota (0.01)")]
    public void BadCpus(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => Cpus.Quota(text, hostCpus: 2)).Message);

    [Theory]
    [InlineData("0-3,5", "0-3,5")]
    [InlineData("0, 1", "0,1")]
    [InlineData("7", "7")]
    public void CpusetLists(string text, string normalized) => Assert.Equal(normalized, Cpus.List(text, "--cpuset-cpus"));

    [Theory]
    [InlineData("3-1")]
    [InlineData("a")]
    [InlineData("1,,2")]
    [InlineData("-1")]
    public void BadCpusetLists(string text) =>
        Assert.Equal($"--cpuset-cpus \"{text}\" is not a list of numbers and ranges (e.g. 0-3,6)",
            Assert.Throws<RunFlagException>(() => Cpus.List(text, "--cpuset-cpus")).Message);

    [Theory]
    [InlineData("c 1:3 mr", "c", 1L, 3L, "mr")]
    [InlineData("b 8:* rw", "b", 8L, null, "rw")]
    [InlineData("a *:* rwm", "a", null, null, "rwm")]
    public void DeviceCgroupRules(string text, string type, long? major, long? minor, string access)
    {
        var rule = Devices.ParseCgroupRule(text);
        Assert.Equal((true, type, major, minor, access), (rule.Allow, rule.Type, rule.Major, rule.Minor, rule.Access));
    }

    [Theory]
    [InlineData("c 1:3")]
    [InlineData("x 1:3 r")]
    [InlineData("c 1:3 rr")]
    [InlineData("c1:3 r")]
    public void BadDeviceCgroupRules(string text) =>
        Assert.Equal($"--device-cgroup-rule \"{text}\" is not TYPE MAJOR:MINOR ACCESS (e.g. \"c 1:3 mr\", \"b 8:* rw\")",
            Assert.Throws<RunFlagException>(() => Devices.ParseCgroupRule(text)).Message);

    [Theory]
    [InlineData("/dev/fuse", "/dev/fuse", "/dev/fuse", "rwm")]
    [InlineData("/dev/sda:/dev/xvda", "/dev/sda", "/dev/xvda", "rwm")]
    [InlineData("/dev/sda:r", "/dev/sda", "/dev/sda", "r")]
    [InlineData("/dev/sda:/dev/xvda:rw", "/dev/sda", "/dev/xvda", "rw")]
    public void DeviceFlags(string text, string host, string container, string access) =>
        Assert.Equal(new Devices.DeviceFlag(host, container, access), Devices.ParseFlag(text));

    [Theory]
    [InlineData("sda", "--device \"sda\": the host device \"sda\" is not an absolute path")]
    [InlineData("/dev/sda:xvda", "--device \"/dev/sda:xvda\": the container path \"xvda\" is not an absolute path")]
    [InlineData("/dev/sda:/dev/xvda:rx", "--device \"/dev/sda:/dev/xvda:rx\": \"rx\" is not a combination of r, w and m")]
    [InlineData("/a:/b:r:w", "--device \"/a:/b:r:w\" is not HOST[:CONTAINER][:PERMISSIONS]")]
    public void BadDeviceFlags(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => Devices.ParseFlag(text)).Message);

    [Fact]
    public void ADeviceIsResolvedFromTheHostsNode()
    {
        var null_ = Assert.Single(Devices.Resolve("/dev/null:/dev/mynull:rw"));
        Assert.Equal(("/dev/mynull", "c", 1L, 3L, "rw", "/dev/null"), (null_.ContainerPath, null_.Type, null_.Major, null_.Minor, null_.Access, null_.HostPath));
        Assert.Equal(0x1B6u, null_.FileMode & 0x1FF);
        Assert.Equal("--device /dev/nonexistent-moat: the host has no such device",
            Assert.Throws<RunFlagException>(() => Devices.Resolve("/dev/nonexistent-moat")).Message);
        Assert.Equal("--device /etc/hostname: it is not a character or block device",
            Assert.Throws<RunFlagException>(() => Devices.Resolve("/etc/hostname")).Message);
    }

    [Theory]
    [InlineData("db:10.0.0.5", "db", "10.0.0.5")]
    [InlineData("db=10.0.0.5", "db", "10.0.0.5")]
    [InlineData("v6:::1", "v6", "::1")]
    [InlineData("v6=[2001:db8::1]", "v6", "2001:db8::1")]
    [InlineData("host.docker.internal:host-gateway", "host.docker.internal", "host-gateway")]
    public void AddHosts(string text, string name, string address) => Assert.Equal(new HostEntry(name, address), HostFiles.AddHost(text));

    [Theory]
    [InlineData("db", "--add-host \"db\" is not NAME:IP")]
    [InlineData("db:10.0.0.500", "--add-host \"db:10.0.0.500\": \"10.0.0.500\" is not an IP address")]
    [InlineData("d b:10.0.0.5", "--add-host \"d b:10.0.0.5\": \"d b\" is not a host name")]
    public void BadAddHosts(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => HostFiles.AddHost(text)).Message);

    [Fact]
    public void DnsServersAreAddresses()
    {
        Assert.Equal("1.1.1.1", HostFiles.Dns("1.1.1.1"));
        Assert.Equal("--dns \"dns.google\" is not an IP address", Assert.Throws<RunFlagException>(() => HostFiles.Dns("dns.google")).Message);
    }

    [Theory]
    [InlineData("net.ipv4.ip_forward=1", "net.ipv4.ip_forward", "1")]
    [InlineData("net/core/somaxconn=1024", "net.core.somaxconn", "1024")]
    [InlineData("kernel.shmmax=68719476736", "kernel.shmmax", "68719476736")]
    [InlineData("fs.mqueue.msg_max=100", "fs.mqueue.msg_max", "100")]
    public void SysctlValues(string text, string name, string value) => Assert.Equal(new KeyValuePair<string, string>(name, value), Sysctls.Parse(text, []));

    [Theory]
    [InlineData("vm.swappiness=10", null, "--sysctl vm.swappiness is not namespaced: setting it would change the host (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.domainname)")]
    [InlineData("kernel.hostname=x", null, "--sysctl kernel.hostname: set the hostname with --hostname")]
    [InlineData("net.ipv4.ip_forward=1", "network", "--sysctl net.ipv4.ip_forward cannot be set in a container that shares the host's network namespace")]
    [InlineData("kernel.sem", null, "--sysctl \"kernel.sem\" is not NAME=VALUE")]
    public void BadSysctls(string text, string? hostNamespace, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => Sysctls.Parse(text, hostNamespace is null ? [] : [hostNamespace])).Message);

    [Fact]
    public void LogOptionValues()
    {
        Assert.Equal((10_000_000L, 3), LogOptions.Parse(["max-size=10m", "max-file=3"], "json-file"));
        Assert.Equal((0L, 1), LogOptions.Parse([], "k8s-file"));
        Assert.Equal("--log-opt max-file needs max-size (the log rotates by size)",
            Assert.Throws<RunFlagException>(() => LogOptions.Parse(["max-file=3"], "json-file")).Message);
        Assert.Equal("--log-opt \"compress=true\" is not known (max-size, max-file)",
            Assert.Throws<RunFlagException>(() => LogOptions.Parse(["compress=true"], "json-file")).Message);
        Assert.Equal("--log-driver \"syslog\" is not available (k8s-file, json-file or none)",
            Assert.Throws<RunFlagException>(() => LogOptions.Driver("syslog")).Message);
    }

    [Fact]
    public void SecurityOptionValues()
    {
        var options = SecurityOptions.Parse(["no-new-privileges:false", "seccomp=unconfined", "apparmor=unconfined", "label=type:spc_t", "label=level:s0:c1,c2", "mask=/proc/a:/proc/b", "unmask=/proc/kcore"]);
        Assert.False(options.NoNewPrivileges);
        Assert.True(options.SeccompUnconfined);
        Assert.Equal("unconfined", options.AppArmor);
        Assert.Equal("system_u:system_r:spc_t:s0:c1,c2", options.SelinuxLabel);
        Assert.Equal(["/proc/a", "/proc/b"], options.Mask);
        Assert.Equal(["/proc/kcore"], options.Unmask);
        Assert.True(SecurityOptions.Parse(["no-new-privileges"]).NoNewPrivileges);
        Assert.True(SecurityOptions.Parse(["no-new-privileges=true"]).NoNewPrivileges);
        Assert.Equal("/p.json", SecurityOptions.Parse(["seccomp=/p.json"]).SeccompProfileFile);
        Assert.True(SecurityOptions.Parse(["label=disable"]).LabelDisabled);
        Assert.Equal(["ALL"], SecurityOptions.Parse(["systempaths=unconfined"]).Unmask);
    }

    [Theory]
    [InlineData("no-new-privileges=maybe", "--security-opt \"no-new-privileges=maybe\": no-new-privileges takes true or false")]
    [InlineData("seccomp", "--security-opt \"seccomp\": seccomp needs a profile file or unconfined")]
    [InlineData("label=enable", "--security-opt \"label=enable\": label takes disable, nested, user:U, role:R, type:T or level:L")]
    [InlineData("mask=proc/kcore", "--security-opt \"mask=proc/kcore\": \"proc/kcore\" is not an absolute path")]
    [InlineData("privileged", "--security-opt \"privileged\" is not known (no-new-privileges, seccomp=, apparmor=, label=, mask=, unmask=)")]
    public void BadSecurityOptions(string text, string error) =>
        Assert.Equal(error, Assert.Throws<RunFlagException>(() => SecurityOptions.Parse([text])).Message);

    [Fact]
    public void UsernsAutoTakesTheFirstFreeRangeOfTheContainersUser()
    {
        const string subuid = "alice:100000:65536\ncontainers:200000:200000\n";
        var first = UserNamespaces.Parse("auto", [], 0, subuid, subuid)!;
        Assert.Equal((0u, 200000u, 65536u), (first.Uids[0].ContainerId, first.Uids[0].HostId, first.Uids[0].Size));
        Assert.Equal(200000u, first.Gids[0].HostId);
        // Around ranges in use, and with a size.
        var second = UserNamespaces.Parse("auto:size=1000", [new UserNamespaces.Range(200000, 65536), new UserNamespaces.Range(265536, 10)], 0, subuid, subuid)!;
        Assert.Equal((265546u, 1000u), (second.Uids[0].HostId, second.Uids[0].Size));
        // No `containers` entry: the fixed base.
        Assert.Equal(UserNamespaces.FallbackBase, UserNamespaces.Parse("auto", [], 0, null, null)!.Uids[0].HostId);
        Assert.Null(UserNamespaces.Parse("host", [], 0, null, null));
        Assert.Equal("--userns auto: no free range of 65536 host uids is left (give the `containers` user more in /etc/subuid, or remove containers)",
            Assert.Throws<RunFlagException>(() => UserNamespaces.Parse("auto", [new UserNamespaces.Range(200000, 200000)], 0, subuid, subuid)).Message);
    }

    [Fact]
    public void UsernsKeepIdIsRootlessOnly()
    {
        Assert.Equal("--userns keep-id is only for rootless moat (it keeps your own uid inside); as root use --userns auto",
            Assert.Throws<RunFlagException>(() => UserNamespaces.Parse("keep-id", [], 0, null, null)).Message);
        var keep = UserNamespaces.Parse("keep-id", [], 1000, "alice:100000:65536\n", "alice:100000:65536\n", "alice")!;
        Assert.Equal([(0u, 1u, 1000u), (1000u, 0u, 1u), (1001u, 1001u, 64536u)], keep.Uids.Select(m => (m.ContainerId, m.HostId, m.Size)));
        Assert.Equal("--userns \"auto:size=0\": auto takes size=N (a positive number of ids)",
            Assert.Throws<RunFlagException>(() => UserNamespaces.Parse("auto:size=0", [], 0, null, null)).Message);
        Assert.Equal("--userns \"sometimes\" is not host, auto[:size=N] or keep-id",
            Assert.Throws<RunFlagException>(() => UserNamespaces.Parse("sometimes", [], 0, null, null)).Message);
    }

    [Fact]
    public void EnvEntries()
    {
        Func<string, string?> env = k => k == "HOME" ? "/root" : null;
        Assert.Equal("A=1=2", EnvFiles.Entry("A=1=2", env));
        Assert.Equal("A=", EnvFiles.Entry("A=", env));
        Assert.Equal("HOME=/root", EnvFiles.Entry("HOME", env));
        Assert.Null(EnvFiles.Entry("UNSET_HERE", env));
        Assert.Equal("--env \"=x\" has no variable name before the '='", Assert.Throws<RunFlagException>(() => EnvFiles.Entry("=x", env)).Message);
        Assert.Equal("--env \"A B=1\": the variable name \"A B\" contains whitespace", Assert.Throws<RunFlagException>(() => EnvFiles.Entry("A B=1", env)).Message);
    }

    [Fact]
    public void EnvFilesAreReadAsDockerReadsThem()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "# a comment\n\nA=1\n  B=\"quoted stays\"  \nHOME\nUNSET_HERE\nC=x=y\r\n");
            Assert.Equal(["A=1", "B=\"quoted stays\"  ", "HOME=/root", "C=x=y"], EnvFiles.ReadEnvFile(file, k => k == "HOME" ? "/root" : null));
            File.WriteAllText(file, "GOOD=1\nBAD KEY=2\n");
            Assert.Equal($"--env-file {file} line 2: \"BAD KEY=2\": the variable name \"BAD KEY\" contains whitespace",
                Assert.Throws<RunFlagException>(() => EnvFiles.ReadEnvFile(file, _ => null)).Message);
            File.WriteAllText(file, "a=b\nflag\n");
            Assert.Equal([new("a", "b"), new("flag", "")], EnvFiles.ReadLabelFile(file));
        }
        finally
        {
            File.Delete(file);
        }
        Assert.StartsWith("--env-file /nonexistent/moat.env cannot be read: ", Assert.Throws<RunFlagException>(() => EnvFiles.ReadEnvFile("/nonexistent/moat.env", _ => null)).Message);
    }

    [Fact]
    public void VolumesBecomeOciMounts()
    {
        var bind = MountConversion.ToOci(MountFlags.ParseVolume("/srv:/srv:ro,Z"));
        Assert.Equal(("bind", "/srv", "/srv"), (bind.Type, bind.Source, bind.Destination));
        Assert.Equal(["rbind", "rprivate", "ro"], bind.Options!);
        var volume = MountConversion.ToOci(MountFlags.ParseVolume("data:/data:nocopy"), "/var/lib/moat/volumes/data/_data");
        Assert.Equal(("bind", "/var/lib/moat/volumes/data/_data"), (volume.Type, volume.Source));
        Assert.Equal(["rbind", "rprivate", "rw"], volume.Options!);
        var tmpfs = MountConversion.ToOci(MountFlags.ParseTmpfs("/run:size=1m"));
        Assert.Equal(("tmpfs", "tmpfs"), (tmpfs.Type, tmpfs.Source));
        Assert.Equal(["nosuid", "nodev", "noexec", "size=1048576"], tmpfs.Options!);
    }
}
