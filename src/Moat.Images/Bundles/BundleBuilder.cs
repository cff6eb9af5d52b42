using Moat.Images.Model;
using Moat.Images.Storage;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Oci.Profiles;

namespace Moat.Images.Bundles;

/// <summary>
/// An OCI bundle from an image: the image's config (Entrypoint, Cmd, Env, WorkingDir, User, Labels,
/// StopSignal, ExposedPorts, Volumes) and the run's options over Docker's secure defaults — its
/// capability set in bounding/effective/permitted (never inheritable or ambient), no_new_privs, its
/// mounts, masked and read-only paths, namespaces, device rules, the default seccomp profile resolved
/// for those capabilities, RLIMIT_NOFILE and a pids limit as Podman has them.
/// </summary>
public static class BundleBuilder
{
    /// <summary>
    /// The spec for a container of <paramref name="image"/> whose root filesystem is the prepared directory
    /// <paramref name="rootfs"/> (the user is resolved against the account files in it). When
    /// <paramref name="bundleDirectory"/> holds the rootfs, root.path is written relative to it, as runc's
    /// bundles have it; otherwise it is absolute.
    /// </summary>
    public static Spec Build(ImageConfig image, string rootfs, BundleOptions options, string? bundleDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrEmpty(image.Os) && image.Os != "linux")
            throw new BundleException($"the image is for {image.Os}, not linux: it cannot run here");
        var rootfsPath = Path.GetFullPath(rootfs);
        if (!Directory.Exists(rootfsPath))
            throw new BundleException($"the root filesystem {rootfsPath} does not exist");

        var config = image.Config;
        var hostUts = options.HostNamespaces.Contains(NamespaceType.Uts);
        if (hostUts && options.Hostname is not null)
            throw new BundleException("a hostname cannot be set for a container that shares the host's UTS namespace");
        var hostname = hostUts ? Environment.MachineName : options.Hostname ?? BundleOptions.DefaultHostname;
        ValidateHostname(hostname);
        var user = ImageUser.Resolve(rootfsPath, options.User ?? config?.User);
        var capabilities = options.Privileged
            ? [.. Capabilities.Names]
            : DefaultCapabilitySet.Apply(options.CapAdd, options.CapDrop);
        var additionalGids = user.AdditionalGids.Concat(ImageUser.ResolveGroups(rootfsPath, options.GroupAdd)).Distinct().ToList();

        var annotations = ImageAnnotations.From(image);
        foreach (var (key, value) in options.Annotations ?? new Dictionary<string, string>())
            annotations[key] = value;

        var args = ProcessSettings.Args(config, options);
        if (options.Init)
            args.InsertRange(0, [BundleOptions.InitPathInContainer, "--"]);

        return new Spec
        {
            OciVersion = SpecVersion.Current,
            Root = new Root { Path = RootPathFor(rootfsPath, bundleDirectory), Readonly = options.ReadOnlyRootfs },
            Hostname = hostUts ? null : hostname,
            Process = new Process
            {
                Terminal = options.Terminal,
                User = new User
                {
                    Uid = user.Uid,
                    Gid = user.Gid,
                    AdditionalGids = additionalGids.Count > 0 ? additionalGids : null,
                },
                Args = args,
                Env = ProcessSettings.Env(config, options, hostname, user.Home),
                Cwd = ProcessSettings.WorkingDir(config, options),
                Capabilities = new LinuxCapabilities
                {
                    Bounding = [.. capabilities],
                    Effective = [.. capabilities],
                    Permitted = [.. capabilities],
                },
                Rlimits = RlimitsFor(options),
                NoNewPrivileges = options.NoNewPrivileges,
                ApparmorProfile = options.AppArmorProfile is { } profile && profile != "unconfined" && !options.Privileged ? profile : null,
                SelinuxLabel = options.LabelDisabled || options.Privileged ? null : options.SelinuxLabel,
                OomScoreAdj = options.OomScoreAdj,
            },
            Mounts = MountSettings.For(options),
            Annotations = annotations.Count > 0 ? annotations : null,
            Linux = new Linux
            {
                Namespaces = SecureDefaults.Namespaces(options.HostNamespaces, userNamespace: options.UidMappings.Count > 0),
                UidMappings = options.UidMappings.Count > 0 ? [.. options.UidMappings] : null,
                GidMappings = options.GidMappings.Count > 0 ? [.. options.GidMappings] : null,
                Devices = DeviceSettings.Nodes(options),
                MaskedPaths = options.Privileged ? null : Unmasked(SecureDefaults.MaskedPaths().Concat(options.MaskPaths).Distinct().ToList(), options),
                ReadonlyPaths = options.Privileged ? null : Unmasked(SecureDefaults.ReadonlyPaths(), options),
                Resources = ResourceSettings.For(options),
                Sysctl = options.Sysctls.Count > 0 ? new Dictionary<string, string>(options.Sysctls) : null,
                // Docker resolves the profile against the bounding set.
                Seccomp = options.Privileged || options.SeccompUnconfined
                    ? null
                    : options.Seccomp ?? DefaultSeccompProfile.For(capabilities.ToHashSet(StringComparer.Ordinal)),
            },
        };
    }

    static List<PosixRlimit> RlimitsFor(BundleOptions options)
    {
        var limits = new List<PosixRlimit> { new() { Type = "RLIMIT_NOFILE", Hard = SecureDefaults.OpenFilesLimitHere(), Soft = SecureDefaults.OpenFilesLimitHere() } };
        foreach (var ulimit in options.Ulimits)
        {
            limits.RemoveAll(l => l.Type == ulimit.Type);
            limits.Add(new PosixRlimit { Type = ulimit.Type, Soft = ulimit.Soft, Hard = ulimit.Hard });
        }
        return limits;
    }

    /// <summary>The paths left after `unmask=`: ALL clears the list, a path removes itself and what lies under it.</summary>
    static List<string>? Unmasked(List<string> paths, BundleOptions options)
    {
        foreach (var unmask in options.UnmaskPaths)
        {
            if (unmask == "ALL")
                return null;
            paths.RemoveAll(p => p == unmask || p.StartsWith(unmask.TrimEnd('/') + "/", StringComparison.Ordinal));
        }
        return paths.Count > 0 ? paths : null;
    }

    /// <summary>Builds the spec and writes it as the bundle's config.json; returns the spec written.</summary>
    public static Spec Create(string bundleDirectory, ImageConfig image, string rootfs, BundleOptions options)
    {
        var spec = Build(image, rootfs, options, bundleDirectory);
        WriteConfig(bundleDirectory, spec);
        return spec;
    }

    /// <summary>
    /// Writes config.json atomically (a temporary file, rename): a reader sees the old file or the new, whole,
    /// also after the writer was killed. <paramref name="durable"/> adds the fsyncs (the file, then the directory)
    /// that make it survive a power cut too; they cost two journal commits (~10 ms each on this project's
    /// machines), which a caller whose own record of the bundle is not synced either gains nothing from.
    /// </summary>
    public static void WriteConfig(string bundleDirectory, Spec spec, bool durable = true)
    {
        var directory = Path.GetFullPath(bundleDirectory);
        if (!Directory.Exists(directory))
            throw new BundleException($"the bundle directory {directory} does not exist");
        const UnixFileMode ConfigMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        AtomicFile.Write(Bundle.ConfigPath(directory), SpecJson.ToUtf8Bytes(spec, indented: true), ConfigMode, durable);
    }

    static string RootPathFor(string rootfs, string? bundleDirectory)
    {
        if (bundleDirectory is null)
            return rootfs;
        var relative = Path.GetRelativePath(Path.GetFullPath(bundleDirectory), rootfs);
        return relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? rootfs : relative;
    }

    static void ValidateHostname(string hostname)
    {
        // HOST_NAME_MAX; sethostname refuses more, and a '/' or control character is never a hostname.
        if (hostname.Length is 0 or > 64 || hostname.Any(c => c == '/' || char.IsControl(c) || char.IsWhiteSpace(c)))
            throw new BundleException($"hostname \"{hostname}\" is not valid (1 to 64 characters, no '/', spaces or control characters)");
    }
}
