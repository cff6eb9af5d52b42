using Moat.Audit.Findings;
using Moat.Images.Bundles;
using Moat.Images.Model;
using Moat.Oci;

namespace Moat.Tests.Audit.Bundle;

/// <summary>
/// Moat's own defaults at --fail-on medium. Where a default trips a rule the test names it: the audit found a
/// loose default (reported to the lead), and the rule is not weakened to hide it.
/// </summary>
public class DefaultConfigTests
{
    static List<string> AtOrAboveMedium(Spec spec) =>
        Configs.Audit(spec).Failing(AuditSeverity.Medium).Select(f => f.Rule.Id).Distinct().Order().ToList();

    [Fact]
    public void Moat_runtime_spec_default_passes_at_medium()
    {
        // runc's defaults plus a pids limit, in a user namespace mapping container root to unprivileged host ids.
        var spec = Moat.Runtime.Api.ContainerRuntime.DefaultConfig(Moat.Runtime.Api.DefaultConfigKind.MappedRoot);
        Assert.Empty(AtOrAboveMedium(spec));
        Assert.Equal(DefaultSpec.MappedRootHostId, spec.Linux!.UidMappings![0].HostId);
    }

    [Fact]
    public void Moat_runtime_spec_host_root_is_loose_on_root_only()
    {
        // `spec --host-root`, runc's own config: root without a user namespace (A001).
        Assert.Equal(["MOAT-A001"], AtOrAboveMedium(Moat.Runtime.Api.ContainerRuntime.DefaultConfig(Moat.Runtime.Api.DefaultConfigKind.HostRoot)));
    }

    [Fact]
    public void Moat_runtime_spec_rootless_default_is_loose_on_pids_network_and_sys()
    {
        // The rootless variant (as a user with uid 1000) has a user namespace, but runc's rootless defaults share the
        // host's network namespace (A014) and bind the host's /sys (A018), both one step lower in the user namespace,
        // and set no resources (A010).
        var spec = DefaultSpec.CreateRootless(1000, 1000);
        spec.Linux!.Seccomp = Moat.Oci.Profiles.DefaultSeccompProfile.For(spec.Process!.Capabilities!.Bounding!.ToHashSet());
        Assert.Equal(["MOAT-A010", "MOAT-A014", "MOAT-A018"], AtOrAboveMedium(spec));
    }

    [Fact]
    public void An_image_bundle_for_a_non_root_image_passes_at_medium()
    {
        using var rootfs = new TempRootfs();
        var spec = BundleBuilder.Build(Image("1000:1000"), rootfs.Path, new BundleOptions());
        Assert.Empty(AtOrAboveMedium(spec));
    }

    [Fact]
    public void An_image_bundle_for_a_root_image_without_a_user_namespace_trips_only_the_root_rule()
    {
        // `moat run --userns host` (or where the default cannot apply: --privileged, a host namespace...).
        using var rootfs = new TempRootfs();
        var spec = BundleBuilder.Build(Image(null), rootfs.Path, new BundleOptions());
        Assert.Equal(["MOAT-A001"], AtOrAboveMedium(spec));
    }

    [Fact]
    public void An_image_bundle_for_a_root_image_with_moat_runs_default_user_namespace_passes_at_medium()
    {
        // What `moat run IMAGE` gives as root: --userns auto unless asked otherwise (RunFlagsReadTests).
        using var rootfs = new TempRootfs();
        var spec = BundleBuilder.Build(Image(null), rootfs.Path, new BundleOptions
        {
            UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1u << 30, Size = 65536 }],
            GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1u << 30, Size = 65536 }],
        });
        Assert.Empty(AtOrAboveMedium(spec));
    }

    static ImageConfig Image(string? user) => new()
    {
        Os = "linux",
        Architecture = "amd64",
        Config = new ContainerConfig { User = user, Cmd = ["/bin/sh"], Env = ["PATH=/usr/bin:/bin"] },
    };

    sealed class TempRootfs : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("moat-audit-rootfs-").FullName;

        public TempRootfs()
        {
            Directory.CreateDirectory(System.IO.Path.Combine(Path, "etc"));
            File.WriteAllText(System.IO.Path.Combine(Path, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
            File.WriteAllText(System.IO.Path.Combine(Path, "etc/group"), "root:x:0:\napp:x:1000:\n");
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
