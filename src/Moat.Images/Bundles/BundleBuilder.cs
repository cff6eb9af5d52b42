using Moat.Images.Model;
using Moat.Interop;
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
        var hostname = options.Hostname ?? BundleOptions.DefaultHostname;
        ValidateHostname(hostname);
        var user = ImageUser.Resolve(rootfsPath, options.User ?? config?.User);
        var capabilities = DefaultCapabilitySet.Apply(options.CapAdd, options.CapDrop);

        var annotations = ImageAnnotations.From(image);
        foreach (var (key, value) in options.Annotations ?? new Dictionary<string, string>())
            annotations[key] = value;

        return new Spec
        {
            OciVersion = SpecVersion.Current,
            Root = new Root { Path = RootPathFor(rootfsPath, bundleDirectory), Readonly = options.ReadOnlyRootfs },
            Hostname = hostname,
            Process = new Process
            {
                Terminal = options.Terminal,
                User = new User
                {
                    Uid = user.Uid,
                    Gid = user.Gid,
                    AdditionalGids = user.AdditionalGids.Count > 0 ? [.. user.AdditionalGids] : null,
                },
                Args = ProcessSettings.Args(config, options),
                Env = ProcessSettings.Env(config, options, hostname, user.Home),
                Cwd = ProcessSettings.WorkingDir(config, options),
                Capabilities = new LinuxCapabilities
                {
                    Bounding = [.. capabilities],
                    Effective = [.. capabilities],
                    Permitted = [.. capabilities],
                },
                Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = SecureDefaults.OpenFilesLimitHere(), Soft = SecureDefaults.OpenFilesLimitHere() }],
                NoNewPrivileges = true,
            },
            Mounts = SecureDefaults.Mounts(),
            Annotations = annotations.Count > 0 ? annotations : null,
            Linux = new Linux
            {
                Namespaces = SecureDefaults.Namespaces(),
                MaskedPaths = SecureDefaults.MaskedPaths(),
                ReadonlyPaths = SecureDefaults.ReadonlyPaths(),
                Resources = new LinuxResources
                {
                    Devices = SecureDefaults.DeviceRules(),
                    Pids = options.PidsLimit > 0 ? new LinuxPids { Limit = options.PidsLimit } : null,
                },
                // Docker resolves the profile against the bounding set.
                Seccomp = DefaultSeccompProfile.For(capabilities.ToHashSet(StringComparer.Ordinal)),
            },
        };
    }

    /// <summary>Builds the spec and writes it as the bundle's config.json; returns the spec written.</summary>
    public static Spec Create(string bundleDirectory, ImageConfig image, string rootfs, BundleOptions options)
    {
        var spec = Build(image, rootfs, options, bundleDirectory);
        WriteConfig(bundleDirectory, spec);
        return spec;
    }

    /// <summary>Writes config.json atomically (a temporary file, fsync, rename): a reader sees the old file or the new, whole.</summary>
    public static void WriteConfig(string bundleDirectory, Spec spec)
    {
        var directory = Path.GetFullPath(bundleDirectory);
        if (!Directory.Exists(directory))
            throw new BundleException($"the bundle directory {directory} does not exist");
        var target = Bundle.ConfigPath(directory);
        var temporary = Path.Combine(directory, $".{Bundle.ConfigFileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(SpecJson.ToUtf8Bytes(spec, indented: true));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        // The rename itself reaches the disk with the directory.
        using var dir = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Libc.fsync(dir.Fd);
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
