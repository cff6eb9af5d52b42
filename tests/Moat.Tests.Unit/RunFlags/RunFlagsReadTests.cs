using System.CommandLine;
using Moat.Cli.Commands;
using Moat.Engine.Run;
using Moat.Engine.Run.Flags;
using Moat.Oci;
using Xunit;
using Flags = Moat.Cli.Commands.RunFlags;

namespace Moat.Tests.Unit.RunFlags;

/// <summary>`moat run ...` argument arrays, through the real parser, to the RunRequest the engine gets.</summary>
public class RunFlagsReadTests
{
    static readonly Flags.Host TestHost = new()
    {
        Environment = k => k switch { "HOME" => "/home/me", "EDITOR" => "vi", _ => null },
        Cpus = 4,
        EffectiveUid = 0,
        UserName = "root",
        SubUid = () => "containers:200000:1000000\n",
        SubGid = () => "containers:300000:1000000\n",
        UsedIdRanges = () => [],
        KernelRelease = () => new Version(6, 18),
        InitBinary = "/opt/moat/bin/moat-init",
    };

    /// <summary>The command tree as the engine builds it: run with RunFlags and its IMAGE and COMMAND arguments, under the root.</summary>
    static RunRequest Read(params string[] args)
    {
        var image = new Argument<string>("IMAGE");
        var command = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.ZeroOrMore };
        var run = new Command("run");
        Flags.AddTo(run);
        run.Arguments.Add(image);
        run.Arguments.Add(command);
        var root = new RootCommand();
        root.Options.Add(Moat.Cli.MoatGlobalOptions.Root);
        root.Subcommands.Add(run);
        var parse = root.Parse(Flags.SeparateCommand(args));
        if (parse.Errors.Count > 0)
            throw new InvalidOperationException(string.Join("; ", parse.Errors.Select(e => e.Message)));
        return Flags.Read(parse, parse.GetValue(image)!, parse.GetValue(command) ?? [], TestHost);
    }

    static string Error(params string[] args) => Assert.Throws<RunFlagException>(() => Read(args)).Message;

    [Fact]
    public void EverythingAfterTheImageIsTheCommand()
    {
        var request = Read("run", "busybox", "ls", "-l", "--name", "x", "-e", "A=1");
        Assert.Equal("busybox", request.Image);
        Assert.Equal(["ls", "-l", "--name", "x", "-e", "A=1"], request.Bundle.Command!);
        Assert.Null(request.Name);
        Assert.Empty(request.Bundle.Env);
    }

    [Theory]
    [InlineData(new[] { "run", "-it", "--rm", "-v", "/srv:/srv", "busybox", "sh", "-c", "ls -l" }, new[] { "sh", "-c", "ls -l" })]
    [InlineData(new[] { "--root", "/tmp/r", "run", "-e", "A=1", "busybox", "-x" }, new[] { "-x" })]
    [InlineData(new[] { "run", "--name=web", "-dit", "busybox", "top", "-b" }, new[] { "top", "-b" })]
    [InlineData(new[] { "run", "-l", "a=b", "busybox", "-l" }, new[] { "-l" })]
    [InlineData(new[] { "run", "--", "busybox", "ls", "-l" }, new[] { "ls", "-l" })]
    [InlineData(new[] { "run", "busybox" }, new string[0])]
    public void SeparatesTheCommandWhereverFlagsAre(string[] args, string[] command)
    {
        var request = Read(args);
        Assert.Equal("busybox", request.Image);
        Assert.Equal(command, request.Bundle.Command ?? []);
    }

    [Fact]
    public void SeparateCommandLeavesOtherVerbsAlone()
    {
        string[] args = ["images", "-a", "busybox", "-q"];
        Assert.Same(args, Flags.SeparateCommand(args));
        Assert.Equal(["container", "create", "-t", "img", "--", "sh", "-l"], Flags.SeparateCommand(["container", "create", "-t", "img", "sh", "-l"]));
        Assert.Equal(["run", "-u", "root", "img", "--", "id"], Flags.SeparateCommand(["run", "-u", "root", "img", "id"]));
    }

    [Fact]
    public void TheBasicFlags()
    {
        var request = Read("run", "-d", "-i", "-t", "--rm", "--name", "web", "-e", "A=1", "--env", "HOME", "-e", "UNSET_HERE", "-w", "/srv",
            "-u", "1000:1000", "--hostname", "box", "--read-only", "--init", "nginx:1.27");
        Assert.True(request.Detach && request.Interactive && request.Tty && request.Remove && request.Init);
        Assert.Equal("web", request.Name);
        Assert.Equal(["A=1", "HOME=/home/me"], request.Bundle.Env);
        Assert.Equal(("/srv", "1000:1000", "box"), (request.Bundle.WorkingDir, request.Bundle.User, request.Bundle.Hostname));
        Assert.True(request.Bundle.ReadOnlyRootfs && request.Bundle.Terminal && request.Bundle.Init);
        Assert.Equal("/opt/moat/bin/moat-init", request.Bundle.InitBinary);
        Assert.Null(request.Bundle.Command);
        Assert.Empty(request.Warnings);
        // Nothing asked: the secure defaults and the engine's defaults.
        var plain = Read("run", "busybox");
        Assert.Equal((2048L, true, false, false), (plain.Bundle.PidsLimit, plain.Bundle.NoNewPrivileges, plain.Bundle.Privileged, plain.Bundle.SeccompUnconfined));
        Assert.Equal(("container", "k8s-file", "missing", "no"), (plain.Isolation, plain.LogDriver, plain.Pull, plain.Restart.Name));
        Assert.Null(plain.Network);
    }

    [Fact]
    public void Entrypoints()
    {
        Assert.Equal(["/bin/sh"], Read("run", "--entrypoint", "/bin/sh", "img").Bundle.Entrypoint!);
        Assert.Empty(Read("run", "--entrypoint", "", "img").Bundle.Entrypoint!);
        Assert.Equal(["/bin/sh", "-c"], Read("run", "--entrypoint", "[\"/bin/sh\",\"-c\"]", "img").Bundle.Entrypoint!);
        Assert.Null(Read("run", "img").Bundle.Entrypoint);
    }

    [Fact]
    public void EnvFileComesBeforeEnv()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "A=from-file\nB=2\nEDITOR\n");
            Assert.Equal(["A=from-file", "B=2", "EDITOR=vi", "A=from-flag"], Read("run", "--env-file", file, "-e", "A=from-flag", "img").Bundle.Env);
            File.WriteAllText(file, "team=core\n");
            var labels = Read("run", "--label-file", file, "-l", "tier=web", "--label", "team=edge", "img").Labels;
            Assert.Equal([new("team", "edge"), new("tier", "web")], labels.OrderBy(l => l.Key));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void MountsAccumulateInOrder()
    {
        var request = Read("run", "-v", "/srv:/srv:ro", "--volume", "data:/data", "-v", "/anon", "--mount", "type=tmpfs,target=/run",
            "--tmpfs", "/tmp:size=1m", "img");
        Assert.Equal(["/srv", "/data", "/anon", "/run", "/tmp"], request.Mounts.Select(m => m.Target));
        Assert.Equal(["bind", "volume", "volume", "tmpfs", "tmpfs"], request.Mounts.Select(m => m.Type));
        Assert.Equal("two mounts have the destination /x", Error("run", "-v", "/a:/x", "--tmpfs", "/x", "img"));
    }

    [Fact]
    public void ResourceFlags()
    {
        var b = Read("run", "-m", "512m", "--memory-swap", "1g", "--memory-reservation", "256m", "--cpus", "1.5", "--cpu-shares", "512",
            "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--pids-limit", "100", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=64",
            "--shm-size", "128m", "--oom-score-adj", "-500", "img").Bundle;
        Assert.Equal((512L << 20, 1L << 30, 256L << 20), (b.MemoryLimit, b.MemorySwap, b.MemoryReservation));
        Assert.Equal((150_000L, 100_000UL, 512UL), (b.CpuQuota, b.CpuPeriod, b.CpuShares));
        Assert.Equal(("0-1", "0", 100L), (b.CpusetCpus, b.CpusetMems, b.PidsLimit));
        Assert.Equal(["RLIMIT_NOFILE", "RLIMIT_NPROC"], b.Ulimits.Select(u => u.Type));
        Assert.Equal((128L << 20, -500), (b.ShmSize, b.OomScoreAdj));
        Assert.Equal(-1L, Read("run", "-m", "1g", "--memory-swap", "-1", "img").Bundle.MemorySwap);
        Assert.Equal(0L, Read("run", "--pids-limit", "-1", "img").Bundle.PidsLimit);
        Assert.Equal(0L, Read("run", "--pids-limit", "0", "img").Bundle.PidsLimit);
    }

    [Theory]
    [InlineData(new[] { "-m", "4m" }, "--memory must be at least 6m (the smallest limit a container starts with)")]
    [InlineData(new[] { "--memory-swap", "1g" }, "--memory-swap needs --memory (it is the limit of memory and swap together)")]
    [InlineData(new[] { "-m", "1g", "--memory-swap", "512m" }, "--memory-swap must be at least --memory (it counts memory and swap together)")]
    [InlineData(new[] { "-m", "1g", "--memory-reservation", "2g" }, "--memory-reservation must not be above --memory")]
    [InlineData(new[] { "--pids-limit", "many" }, "--pids-limit \"many\" is not a number (or -1 for no limit)")]
    [InlineData(new[] { "--cpus", "8" }, "--cpus 8 is more than this host has: the range is 0.01 to 4")]
    [InlineData(new[] { "--oom-score-adj", "2000" }, "--oom-score-adj \"2000\" is not a number from -1000 to 1000")]
    [InlineData(new[] { "--rm", "--restart", "always" }, "--rm and --restart always do not go together (a container removed when it exits cannot restart)")]
    [InlineData(new[] { "-w", "srv" }, "--workdir \"srv\" is not an absolute path")]
    [InlineData(new[] { "--name", "-bad" }, "--name \"-bad\" is not a valid container name (letters, digits, '_', '.', '-', starting with a letter or digit)")]
    [InlineData(new[] { "--cap-add", "SYS_WIZARD" }, "--cap-add: unknown capability \"SYS_WIZARD\"")]
    [InlineData(new[] { "--uts", "host", "--hostname", "x" }, "--hostname does not go with --uts host (the container has the host's hostname)")]
    [InlineData(new[] { "--pid", "container:db" }, "--pid container:db: sharing another container's namespace is not supported yet")]
    [InlineData(new[] { "--ipc", "none" }, "--ipc \"none\" is not host or private")]
    [InlineData(new[] { "--network", "ns:/run/netns/x" }, "--network ns:/run/netns/x: joining a namespace by path is not supported; use container:NAME")]
    [InlineData(new[] { "-p", "0:80" }, "-p 0:80: \"0\" is not a port number (1-65535)")]
    [InlineData(new[] { "--egress", "sometimes" }, "--egress \"sometimes\" is not deny or allow=CIDR:PORT,...")]
    [InlineData(new[] { "--isolation", "hyperv" }, "--isolation \"hyperv\" is not container, sandbox or vm")]
    [InlineData(new[] { "--userns", "keep-id" }, "--userns keep-id is only for rootless moat (it keeps your own uid inside); as root use --userns auto")]
    [InlineData(new[] { "--no-healthcheck", "--health-cmd", "true" }, "--no-healthcheck does not go with --health-* flags")]
    [InlineData(new[] { "--health-interval", "10" }, "--health-interval \"10\" is not a duration (a number and a unit: ns, us, ms, s, m, h, e.g. 1m30s)")]
    [InlineData(new[] { "--health-timeout", "-1s" }, "--health-timeout -1s is negative")]
    [InlineData(new[] { "--stop-timeout", "soon" }, "--stop-timeout \"soon\" is not a number of seconds (-1: wait without limit)")]
    [InlineData(new[] { "--pull", "sometimes" }, "--pull \"sometimes\" is not missing, always, never or newer")]
    [InlineData(new[] { "--platform", "amd64" }, "--platform: 'amd64' is not a platform: expected os/arch[/variant], such as linux/amd64 or linux/arm64/v8")]
    [InlineData(new[] { "--sysctl", "net.ipv4.ip_forward=1", "--network", "host" }, "--sysctl net.ipv4.ip_forward cannot be set in a container that shares the host's network namespace")]
    [InlineData(new[] { "--entrypoint", "[\"a\", 1]" }, "--entrypoint '[\"a\", 1]' starts like a JSON array but is not a list of strings")]
    public void CrossFlagErrors(string[] flags, string error) => Assert.Equal(error, Error(["run", .. flags, "img"]));

    [Fact]
    public void NamespacesAndNetworks()
    {
        var host = Read("run", "--network", "host", "--pid", "host", "--ipc", "host", "--uts", "host", "img");
        Assert.Equal([NamespaceType.Network, NamespaceType.Uts, NamespaceType.Ipc, NamespaceType.Pid], host.Bundle.HostNamespaces);
        Assert.Equal("host", host.Network);
        Assert.Equal(4, host.Warnings.Count);
        var none = Read("run", "--net", "none", "--ipc", "shareable", "--pid", "private", "img");
        Assert.Equal("none", none.Network);
        Assert.Empty(none.Bundle.HostNamespaces);
        Assert.Equal("backend", Read("run", "--network", "backend", "img").Network);
        Assert.Equal("container:db", Read("run", "--network", "container:db", "img").Network);
        var published = Read("run", "-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-P", "--egress", "allow=10.0.0.0/8:443", "img");
        Assert.Equal(["0.0.0.0:8080:80/tcp", "127.0.0.1:5353:53/udp"], published.Publish.Select(p => p.ToString()));
        Assert.True(published.PublishAll);
        Assert.Equal("10.0.0.0/8", Assert.Single(published.Egress!).Cidr);
    }

    [Fact]
    public void UsernsAutoGivesMappings()
    {
        var b = Read("run", "--userns", "auto:size=1000", "img").Bundle;
        Assert.Equal((0u, 200000u, 1000u), (b.UidMappings[0].ContainerId, b.UidMappings[0].HostId, b.UidMappings[0].Size));
        Assert.Equal(300000u, b.GidMappings[0].HostId);
        Assert.Empty(Read("run", "--userns", "host", "img").Bundle.UidMappings);
    }

    [Fact]
    public void RootGetsAUserNamespaceByDefault()
    {
        var b = Read("run", "img").Bundle;
        Assert.Equal((0u, 200000u, 65536u), (b.UidMappings[0].ContainerId, b.UidMappings[0].HostId, b.UidMappings[0].Size));
        Assert.Equal(300000u, Assert.Single(b.GidMappings).HostId);
        Assert.DoesNotContain(Read("run", "img").Warnings, w => w.Contains("--userns", StringComparison.Ordinal));
        // Asking for none is a loosening, and says so.
        var host = Read("run", "--userns", "host", "img");
        Assert.Empty(host.Bundle.UidMappings);
        Assert.Contains(host.Warnings, w => w.StartsWith("--userns host runs the container without a user namespace", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--privileged")]
    [InlineData("--network", "host")]
    [InlineData("--pid", "host")]
    [InlineData("--ipc", "host")]
    [InlineData("--uts", "host")]
    [InlineData("--isolation", "vm")]
    [InlineData("--cap-add", "NET_ADMIN")]
    [InlineData("--cap-add", "all")]
    [InlineData("--sysctl", "net.ipv4.ip_forward=1")]
    public void NoDefaultUserNamespaceWhereItWouldTakeWhatWasAskedFor(params string[] flags)
    {
        var request = Read(["run", .. flags, "img"]);
        Assert.Empty(request.Bundle.UidMappings);
        Assert.DoesNotContain(request.Warnings, w => w.StartsWith("--userns", StringComparison.Ordinal));
    }

    [Fact]
    public void NetSysctlsKeepTheDefaultWithoutANetwork() =>
        Assert.NotEmpty(Read("run", "--network", "none", "--sysctl", "net.ipv4.ip_forward=1", "img").Bundle.UidMappings);

    [Fact]
    public void TheDefaultNeedsIdmappedLayersAndCanBeTurnedOff()
    {
        var parse = (Flags.Host host) =>
        {
            var image = new Argument<string>("IMAGE");
            var command = new Command("run");
            command.Arguments.Add(image);
            Flags.AddTo(command);
            return Flags.Read(command.Parse(["img"]), "img", [], host).Bundle.UidMappings;
        };
        Assert.Empty(parse(TestHost with { KernelRelease = () => new Version(6, 12) }));
        Assert.Empty(parse(TestHost with { Environment = k => k == "MOAT_USERNS" ? "host" : null }));
        Assert.Empty(parse(TestHost with { EffectiveUid = 1000 }));
        Assert.NotEmpty(parse(TestHost));
    }

    [Fact]
    public void HealthFlags()
    {
        var health = Read("run", "--health-cmd", "curl -f http://localhost/ || exit 1", "--health-interval", "1m30s", "--health-timeout", "10s",
            "--health-retries", "3", "--health-start-period", "5s", "img").Health;
        Assert.Equal(["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"], health.Command!);
        Assert.Equal((TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), 3), (health.Interval, health.Timeout, health.StartPeriod, health.Retries));
        Assert.Equal(["pg_isready", "-U", "app"], Read("run", "--health-cmd", "[\"CMD\", \"pg_isready\", \"-U\", \"app\"]", "img").Health.Command!);
        Assert.True(Read("run", "--no-healthcheck", "img").Health.Disabled);
        Assert.True(Read("run", "--health-cmd", "[\"NONE\"]", "img").Health.Disabled);
        Assert.Null(Read("run", "img").Health.Command);
    }

    [Fact]
    public void EngineFlags()
    {
        var request = Read("run", "--restart", "on-failure:3", "--stop-signal", "QUIT", "--stop-timeout", "30", "--log-driver", "json-file",
            "--log-opt", "max-size=10m", "--log-opt", "max-file=3", "--pull", "always", "--platform", "linux/arm64", "--runtime", "crun",
            "--isolation", "sandbox", "--add-host", "db:10.0.0.5", "--dns", "1.1.1.1", "--dns-search", "example.org", "--dns-option", "ndots:2",
            "--annotation", "io.example/a=b", "--group-add", "audio", "--group-add", "44", "--sysctl", "net.core.somaxconn=1024",
            "--device-cgroup-rule", "c 1:3 mr", "--device", "/dev/null:/dev/mynull:r", "img");
        Assert.Equal(("on-failure", 3), (request.Restart.Name, request.Restart.MaximumRetryCount));
        Assert.Equal(("SIGQUIT", 30), (request.StopSignal, request.StopTimeout));
        Assert.Equal(("json-file", 10_000_000L, 3), (request.LogDriver, request.LogMaxSize, request.LogMaxFiles));
        Assert.Equal(("always", "linux/arm64", "crun", "sandbox"), (request.Pull, request.Platform, request.Runtime, request.Isolation));
        Assert.Equal([new HostEntry("db", "10.0.0.5")], request.AddHosts);
        Assert.Equal(["1.1.1.1"], request.Dns);
        Assert.Equal(["example.org"], request.DnsSearch);
        Assert.Equal(["ndots:2"], request.DnsOptions);
        Assert.Equal("b", request.Bundle.Annotations!["io.example/a"]);
        Assert.Equal(["audio", "44"], request.Bundle.GroupAdd);
        Assert.Equal("1024", request.Bundle.Sysctls["net.core.somaxconn"]);
        Assert.Equal("mr", Assert.Single(request.Bundle.DeviceCgroupRules).Access);
        var device = Assert.Single(request.Bundle.Devices);
        Assert.Equal(("/dev/mynull", 1L, 3L, "r"), (device.ContainerPath, device.Major, device.Minor, device.Access));
    }

    [Fact]
    public void SecurityFlags()
    {
        var b = Read("run", "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "--security-opt", "no-new-privileges=false",
            "--security-opt", "apparmor=unconfined", "--security-opt", "label=disable", "--security-opt", "mask=/proc/x", "img").Bundle;
        Assert.Equal(["NET_ADMIN"], b.CapAdd);
        Assert.Equal(["MKNOD"], b.CapDrop);
        Assert.False(b.NoNewPrivileges);
        Assert.Equal(("unconfined", true), (b.AppArmorProfile, b.LabelDisabled));
        Assert.Equal(["/proc/x"], b.MaskPaths);
        Assert.True(Read("run", "--privileged", "img").Bundle.Privileged);
        Assert.True(Read("run", "--security-opt", "seccomp=unconfined", "img").Bundle.SeccompUnconfined);
    }

    /// <summary>Examples from docker's and podman's run documentation, as typed there.</summary>
    [Theory]
    [InlineData("run -it --rm busybox sh")]
    [InlineData("run --name test -it debian")]
    [InlineData("run --cidfile /nonexistent-dir/moat-test.cid ubuntu echo test")]
    [InlineData("run -t -i --rm --privileged ubuntu bash")]
    [InlineData("run -w /path/to/dir/ -i -t ubuntu pwd")]
    [InlineData("run -v /doesnt/exist:/foo -w /foo -i -t ubuntu bash")]
    [InlineData("run --read-only --tmpfs /run --tmpfs /tmp -i -t ubuntu bash")]
    [InlineData("run -t -i --mount type=bind,src=/data,dst=/data busybox sh")]
    [InlineData("run -e MYVAR1 --env MYVAR2=foo --env-file /dev/null ubuntu bash")]
    [InlineData("run -l my-label --label com.example.foo=bar ubuntu bash")]
    [InlineData("run --device=/dev/null:/dev/xvdc --device=/dev/zero:/dev/xvdd --device=/dev/full:/dev/xvde:r --rm -it ubuntu ls -l /dev/xvd*")]
    [InlineData("run --ulimit nofile=1024:1024 --rm debian sh -c \"ulimit -n\"")]
    [InlineData("run --stop-signal SIGRTMIN+3 --stop-timeout 20 fedora")]
    [InlineData("run -d --restart=on-failure:10 redis")]
    [InlineData("run --security-opt label=level:s0:c100,c200 -i -t fedora bash")]
    [InlineData("run --security-opt no-new-privileges --security-opt seccomp=unconfined alpine")]
    [InlineData("run --tmpfs /tmp:rw,size=787448k,mode=1777 -it debian")]
    [InlineData("run --sysctl net.ipv4.ip_forward=1 someimage")]
    [InlineData("run --cpus=.5 --memory=300m --memory-swap=1g --pids-limit=200 alpine")]
    [InlineData("run --add-host=docker:93.184.216.34 --rm -it alpine ping docker")]
    [InlineData("run --health-cmd='stat /etc/passwd || exit 1' --health-interval=2s busybox sleep 1d")]
    [InlineData("run --userns=auto:size=65536 --network none --init --rm alpine")]
    [InlineData("run --mount type=volume,source=myvol,target=/data,volume-nocopy -d nginx")]
    [InlineData("run --log-driver json-file --log-opt max-size=10m --log-opt max-file=3 nginx")]
    public void DocumentationExamples(string line)
    {
        var args = Split(line);
        var request = Read(args);
        Assert.False(string.IsNullOrEmpty(request.Image));
    }

    /// <summary>A shell-like split: spaces separate, single and double quotes group, an '=' joins.</summary>
    static string[] Split(string line)
    {
        var args = new List<string>();
        var current = new System.Text.StringBuilder();
        char? quote = null;
        var started = false;
        foreach (var c in line)
        {
            if (quote is not null)
            {
                if (c == quote) quote = null; else current.Append(c);
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                started = true;
            }
            else if (c == ' ')
            {
                if (started || current.Length > 0) args.Add(current.ToString());
                current.Clear();
                started = false;
            }
            else
                current.Append(c);
        }
        if (started || current.Length > 0) args.Add(current.ToString());
        return [.. args];
    }
}
