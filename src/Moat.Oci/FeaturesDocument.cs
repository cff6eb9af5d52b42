namespace Moat.Oci;

/// <summary>What the runtime build and host support; the runtime detects these and passes them in.</summary>
public sealed class FeatureSupport
{
    /// <summary>Mount option names the runtime's mount code recognises.</summary>
    public IReadOnlyList<string> MountOptions { get; init; } = [];

    public bool CgroupV1 { get; init; }
    public bool CgroupV2 { get; init; }
    public bool Systemd { get; init; }
    public bool SystemdUser { get; init; }
    public bool Rdma { get; init; }

    public bool Seccomp { get; init; }

    /// <summary>Seccomp flags the kernel accepts; names outside <see cref="SeccompNames.Flags"/> are dropped.</summary>
    public IReadOnlyList<string> SeccompSupportedFlags { get; init; } = [];

    public bool AppArmor { get; init; }
    public bool SELinux { get; init; }
    public bool IntelRdt { get; init; }
    public bool IdmapMounts { get; init; }

    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>config.json annotations that alter runtime behaviour; an entry ending in "." is a prefix.</summary>
    public IReadOnlyList<string>? PotentiallyUnsafeConfigAnnotations { get; init; }
}

/// <summary>Builds the features document from the known name tables and a <see cref="FeatureSupport"/>.</summary>
public static class FeaturesDocument
{
    public static Features Create(FeatureSupport support)
    {
        ArgumentNullException.ThrowIfNull(support);

        return new Features
        {
            OciVersionMin = SpecVersion.Minimum,
            OciVersionMax = SpecVersion.Current,
            Hooks = [.. Oci.Hooks.Names],
            MountOptions = support.MountOptions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            Linux = new LinuxFeatures
            {
                Namespaces = [.. NamespaceType.All],
                Capabilities = [.. Capabilities.Names],
                Cgroup = new CgroupFeatures
                {
                    V1 = support.CgroupV1,
                    V2 = support.CgroupV2,
                    Systemd = support.Systemd,
                    SystemdUser = support.SystemdUser,
                    Rdma = support.Rdma,
                },
                Seccomp = CreateSeccomp(support),
                Apparmor = new EnabledFeature { Enabled = support.AppArmor },
                Selinux = new EnabledFeature { Enabled = support.SELinux },
                IntelRdt = new EnabledFeature { Enabled = support.IntelRdt },
                MountExtensions = new MountExtensionsFeatures
                {
                    Idmap = new EnabledFeature { Enabled = support.IdmapMounts },
                },
            },
            Annotations = support.Annotations?.ToDictionary(StringComparer.Ordinal),
            PotentiallyUnsafeConfigAnnotations = support.PotentiallyUnsafeConfigAnnotations?.ToList(),
        };
    }

    private static SeccompFeatures CreateSeccomp(FeatureSupport support)
    {
        // Without seccomp the name lists would promise something the runtime cannot do.
        if (!support.Seccomp)
        {
            return new SeccompFeatures { Enabled = false };
        }
        return new SeccompFeatures
        {
            Enabled = true,
            Actions = [.. SeccompNames.Actions],
            Operators = [.. SeccompNames.Operators],
            Archs = [.. SeccompNames.Architectures],
            KnownFlags = [.. SeccompNames.Flags],
            SupportedFlags = SeccompNames.Flags.Where(support.SeccompSupportedFlags.Contains).ToList(),
        };
    }
}
