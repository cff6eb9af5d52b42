using Moat.Images.Bundles;
using Moat.Images.Model;
using Moat.Oci;

namespace Moat.Tests.Images.Bundles;

public sealed class BundleBuilderTests
{
    static readonly string[] DockerCaps =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    static ImageConfig ServerImage() => new()
    {
        Architecture = "amd64",
        Os = "linux",
        Config = new ContainerConfig
        {
            Entrypoint = ["/bin/entry"],
            Cmd = ["serve", "--port", "80"],
            Env = ["PATH=/custom/bin:/bin", "FOO=1"],
            WorkingDir = "/srv",
            User = "app",
            Labels = new() { ["org.opencontainers.image.source"] = "https://example.org/src", ["maintainer"] = "someone" },
            StopSignal = "SIGQUIT",
            ExposedPorts = new() { ["80/tcp"] = new EmptyObject(), ["53/udp"] = new EmptyObject() },
            Volumes = new() { ["/data"] = new EmptyObject(), ["/cache"] = new EmptyObject() },
        },
    };

    [Fact]
    public void TheImageConfigBecomesTheProcess()
    {
        using var root = new TestRootfs().WithAccounts();
        var spec = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions(), root.Bundle);
        var process = spec.Process!;
        Assert.Equal(["/bin/entry", "serve", "--port", "80"], process.Args!);
        // What `podman create` gives for this image: the image's PATH wins, HOSTNAME, the image's env, HOME from passwd.
        Assert.Equal(["PATH=/custom/bin:/bin", "HOSTNAME=moat", "FOO=1", "HOME=/home/app"], process.Env!);
        Assert.Equal("/srv", process.Cwd);
        Assert.Equal((1000u, 1000u), (process.User.Uid, process.User.Gid));
        Assert.Equal([10u, 29u], process.User.AdditionalGids!);
        Assert.False(process.Terminal);
        Assert.Equal("rootfs", spec.Root!.Path);
        Assert.False(spec.Root.Readonly);
        Assert.Equal("moat", spec.Hostname);
    }

    [Fact]
    public void SecureDefaultsAreDockers()
    {
        using var root = new TestRootfs().WithAccounts();
        var spec = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions());
        var caps = spec.Process!.Capabilities!;
        Assert.Equal(DockerCaps, caps.Bounding!);
        Assert.Equal(DockerCaps, caps.Effective!);
        Assert.Equal(DockerCaps, caps.Permitted!);
        Assert.Null(caps.Inheritable);
        Assert.Null(caps.Ambient);
        Assert.True(spec.Process.NoNewPrivileges);
        var nofile = Assert.Single(spec.Process.Rlimits!);
        // Podman's 1048576, or this host's hard limit where the runtime could not raise it (no CAP_SYS_RESOURCE here).
        var limit = SecureDefaults.OpenFilesLimitHere();
        Assert.True(limit <= SecureDefaults.OpenFilesLimit);
        Assert.Equal(("RLIMIT_NOFILE", limit, limit), (nofile.Type, nofile.Soft, nofile.Hard));

        var linux = spec.Linux!;
        Assert.Equal(["mount", "network", "uts", "pid", "ipc", "cgroup"], linux.Namespaces!.Select(n => n.Type));
        Assert.All(linux.Namespaces!, n => Assert.Null(n.Path));
        Assert.Contains("/proc/kcore", linux.MaskedPaths!);
        Assert.Contains("/sys/firmware", linux.MaskedPaths!);
        Assert.Contains("/proc/sys", linux.ReadonlyPaths!);
        Assert.Equal(["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"], spec.Mounts!.Select(m => m.Destination));
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/sys/fs/cgroup").Options!);
        Assert.Equal(2048, linux.Resources!.Pids!.Limit);
        var denyAll = linux.Resources.Devices![0];
        Assert.Equal((false, "rwm", (string?)null), (denyAll.Allow, denyAll.Access, denyAll.Type));

        var seccomp = linux.Seccomp!;
        Assert.Equal(("SCMP_ACT_ERRNO", (uint?)1), (seccomp.DefaultAction, seccomp.DefaultErrnoRet));
        Assert.Equal(38u, seccomp.Syscalls!.Single(s => s.Names.Contains("clone3")).ErrnoRet);
        Assert.DoesNotContain(seccomp.Syscalls!, s => s.Names.Contains("mount"));
    }

    [Fact]
    public void ImageSettingsWithoutAPlaceBecomeAnnotations()
    {
        using var root = new TestRootfs().WithAccounts();
        var image = ServerImage();
        image.Config!.Labels!["run.moat.image.volumes"] = "/forged";
        var spec = BundleBuilder.Build(image, root.Rootfs, new BundleOptions { Annotations = new Dictionary<string, string> { ["extra"] = "yes" } });
        var annotations = spec.Annotations!;
        Assert.Equal("SIGQUIT", annotations["org.opencontainers.image.stopSignal"]);
        Assert.Equal("53/udp,80/tcp", annotations[ImageAnnotations.ExposedPorts]);
        Assert.Equal("/cache,/data", annotations[ImageAnnotations.Volumes]);
        Assert.Equal("https://example.org/src", annotations["org.opencontainers.image.source"]);
        Assert.Equal("someone", annotations["maintainer"]);
        Assert.Equal("amd64", annotations[ImageAnnotations.Architecture]);
        Assert.Equal("yes", annotations["extra"]);
    }

    [Theory]
    // (entrypoint override, command override, expected args): docker run semantics.
    [InlineData(null, "sh", "/bin/entry sh")]
    [InlineData("/bin/sh -c", null, "/bin/sh -c")]
    [InlineData("/bin/sh -c", "echo hi", "/bin/sh -c echo hi")]
    [InlineData("", "ls -l", "ls -l")]
    [InlineData(null, "", "/bin/entry")]
    public void OverridesReplaceEntrypointAndCmd(string? entrypoint, string? command, string expected)
    {
        using var root = new TestRootfs().WithAccounts();
        var options = new BundleOptions
        {
            Entrypoint = entrypoint?.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            Command = command?.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        };
        var spec = BundleBuilder.Build(ServerImage(), root.Rootfs, options);
        Assert.Equal(expected, string.Join(' ', spec.Process!.Args!));
    }

    [Fact]
    public void AnImageWithoutCommandNeedsOne()
    {
        using var root = new TestRootfs();
        var image = new ImageConfig { Os = "linux", Architecture = "amd64" };
        Assert.Contains("neither Entrypoint nor Cmd", Assert.Throws<BundleException>(() => BundleBuilder.Build(image, root.Rootfs, new BundleOptions())).Message);
        var spec = BundleBuilder.Build(image, root.Rootfs, new BundleOptions { Command = ["/bin/true"] });
        Assert.Equal(["/bin/true"], spec.Process!.Args!);
        // No image env: the default PATH; root without passwd: HOME=/.
        Assert.Equal(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=moat", "HOME=/"], spec.Process.Env!);
        Assert.Equal("/", spec.Process.Cwd);
        Assert.Equal((0u, 0u), (spec.Process.User.Uid, spec.Process.User.Gid));
    }

    [Fact]
    public void OptionsOverrideEnvUserDirectoryAndHost()
    {
        using var root = new TestRootfs().WithAccounts();
        var spec = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions
        {
            Env = ["FOO=2", "BAR=x=y", "HOME=/elsewhere"],
            User = "4242:staff",
            WorkingDir = "/tmp",
            Hostname = "web1",
            Terminal = true,
            ReadOnlyRootfs = true,
            PidsLimit = 0,
        });
        var process = spec.Process!;
        Assert.Equal(["PATH=/custom/bin:/bin", "HOSTNAME=web1", "TERM=xterm", "FOO=2", "BAR=x=y", "HOME=/elsewhere"], process.Env!);
        Assert.Equal((4242u, 50u), (process.User.Uid, process.User.Gid));
        Assert.Null(process.User.AdditionalGids);
        Assert.Equal("/tmp", process.Cwd);
        Assert.Equal("web1", spec.Hostname);
        Assert.True(process.Terminal);
        Assert.True(spec.Root!.Readonly);
        Assert.Null(spec.Linux!.Resources!.Pids);
    }

    [Theory]
    [InlineData("FOO", "not KEY=VALUE")]
    [InlineData("=x", "not KEY=VALUE")]
    public void BadEnvironmentIsRefused(string entry, string message)
    {
        using var root = new TestRootfs().WithAccounts();
        var error = Assert.Throws<BundleException>(() => BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { Env = [entry] }));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void BadOptionsAreRefusedClearly()
    {
        using var root = new TestRootfs().WithAccounts();
        Assert.Contains("not an absolute path", Assert.Throws<BundleException>(() => BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { WorkingDir = "srv" })).Message);
        Assert.Contains("hostname", Assert.Throws<BundleException>(() => BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { Hostname = "a/b" })).Message);
        Assert.Contains("unknown capability \"CAP_FLY\"", Assert.Throws<BundleException>(() => BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { CapAdd = ["CAP_FLY"] })).Message);
        Assert.Contains("user \"ghost\"", Assert.Throws<BundleException>(() => BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { User = "ghost" })).Message);
        var windows = new ImageConfig { Os = "windows", Architecture = "amd64", Config = new ContainerConfig { Cmd = ["cmd"] } };
        Assert.Contains("windows", Assert.Throws<BundleException>(() => BundleBuilder.Build(windows, root.Rootfs, new BundleOptions())).Message);
        Assert.Contains("does not exist", Assert.Throws<BundleException>(() => BundleBuilder.Build(ServerImage(), root.Rootfs + "-missing", new BundleOptions())).Message);
    }

    [Fact]
    public void CapabilityChangesReachTheSeccompProfile()
    {
        using var root = new TestRootfs().WithAccounts();
        var spec = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { CapAdd = ["sys_admin"], CapDrop = ["NET_RAW", "cap_mknod"] });
        var bounding = spec.Process!.Capabilities!.Bounding!;
        Assert.Contains("CAP_SYS_ADMIN", bounding);
        Assert.DoesNotContain("CAP_NET_RAW", bounding);
        Assert.DoesNotContain("CAP_MKNOD", bounding);
        Assert.Contains(spec.Linux!.Seccomp!.Syscalls!, s => s.Names.Contains("mount") && s.Action == "SCMP_ACT_ALLOW");
        Assert.Equal("SCMP_ACT_ALLOW", spec.Linux.Seccomp.Syscalls!.Single(s => s.Names.Contains("clone3")).Action);

        var minimal = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { CapDrop = ["ALL"], CapAdd = ["NET_BIND_SERVICE"] });
        Assert.Equal(["CAP_NET_BIND_SERVICE"], minimal.Process!.Capabilities!.Bounding!);
        Assert.DoesNotContain(minimal.Linux!.Seccomp!.Syscalls!, s => s.Names.Contains("chroot"));

        var all = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions { CapAdd = ["ALL"], CapDrop = ["SYS_MODULE"] });
        Assert.Equal(Capabilities.Names.Count - 1, all.Process!.Capabilities!.Bounding!.Count);
    }

    [Fact]
    public void CreateWritesAConfigTheRuntimeAccepts()
    {
        using var root = new TestRootfs().WithAccounts();
        var written = BundleBuilder.Create(root.Bundle, ServerImage(), root.Rootfs, new BundleOptions());
        Assert.Equal(["config.json", "rootfs"], Directory.EnumerateFileSystemEntries(root.Bundle).Select(Path.GetFileName).Order());

        var loaded = SpecLoader.Load(root.Bundle);
        SpecValidator.Validate(loaded, root.Bundle);
        Assert.Equal(written.Process!.Args, loaded.Process!.Args);
        Assert.Equal(written.Process.Env, loaded.Process.Env);
        Assert.Equal(written.Process.User.AdditionalGids, loaded.Process.User.AdditionalGids);
        Assert.Equal(written.Linux!.Seccomp!.Syscalls!.Count, loaded.Linux!.Seccomp!.Syscalls!.Count);
        Assert.Equal("rootfs", loaded.Root!.Path);

        // A second write replaces the file whole.
        BundleBuilder.Create(root.Bundle, ServerImage(), root.Rootfs, new BundleOptions { Command = ["other"] });
        Assert.Equal(["/bin/entry", "other"], SpecLoader.Load(root.Bundle).Process!.Args!);
        Assert.Equal(2, Directory.EnumerateFileSystemEntries(root.Bundle).Count());
    }

    [Fact]
    public void ARootfsOutsideTheBundleIsWrittenAbsolute()
    {
        using var root = new TestRootfs().WithAccounts();
        using var other = new TestRootfs();
        var spec = BundleBuilder.Build(ServerImage(), root.Rootfs, new BundleOptions(), other.Bundle);
        Assert.Equal(root.Rootfs, spec.Root!.Path);
    }
}
