using Moat.Runtime;

namespace Moat.Vm.Provisioning;

/// <summary>The guest's kernel image, and the directory of its modules (null: everything the agent needs is built in).</summary>
public sealed record GuestKernel(string Image, string? Modules, string Version)
{
    /// <summary>A kernel image the user chose instead of Debian's (MOAT_VM_KERNEL), and its modules directory (MOAT_VM_MODULES).</summary>
    public const string KernelVariable = "MOAT_VM_KERNEL", ModulesVariable = "MOAT_VM_MODULES";

    /// <summary>The configured kernel, or the one already fetched into the data directory; null when neither exists.</summary>
    public static GuestKernel? Find(VmDirectories dirs)
    {
        if (Environment.GetEnvironmentVariable(KernelVariable) is { Length: > 0 } image)
        {
            if (!File.Exists(image))
                throw new RuntimeException($"{KernelVariable}={image}: no such file");
            return FromImage(Path.GetFullPath(image), Environment.GetEnvironmentVariable(ModulesVariable));
        }
        if (!Directory.Exists(dirs.Kernels))
            return null;
        // One unpacked package per directory: <data>/kernel/linux-image-VERSION-amd64/boot/vmlinuz-VERSION.
        foreach (var tree in Directory.EnumerateDirectories(dirs.Kernels).Order(StringComparer.Ordinal).Reverse())
            if (Directory.Exists(Path.Combine(tree, "boot")) && Directory.EnumerateFiles(Path.Combine(tree, "boot"), "vmlinuz-*").FirstOrDefault() is { } found)
                return FromImage(found, null);
        return null;
    }

    /// <summary>
    /// A kernel image and its modules: the given directory, else lib/modules/VERSION beside the
    /// image's boot/ (an unpacked package), else the host's /lib/modules/VERSION when it exists.
    /// </summary>
    static GuestKernel FromImage(string image, string? modules)
    {
        var name = Path.GetFileName(image);
        var version = name.StartsWith("vmlinuz-", StringComparison.Ordinal) ? name["vmlinuz-".Length..] : "";
        if (modules is { Length: > 0 })
            return new GuestKernel(image, Path.GetFullPath(modules), version);
        if (version.Length > 0)
        {
            var tree = Path.GetDirectoryName(Path.GetDirectoryName(image))!;
            foreach (var candidate in new[] { Path.Combine(tree, "lib/modules", version), Path.Combine(tree, "usr/lib/modules", version), Path.Combine("/lib/modules", version) })
                if (Directory.Exists(candidate))
                    return new GuestKernel(image, candidate, version);
        }
        return new GuestKernel(image, null, version);
    }

    /// <summary>The kernel to boot: found, or fetched now (Debian's linux-image-*-amd64 through apt, unpacked, nothing installed).</summary>
    public static GuestKernel Provide(VmDirectories dirs, Action<string> progress) =>
        Find(dirs) ?? Fetch(dirs, progress);

    static GuestKernel Fetch(VmDirectories dirs, Action<string> progress)
    {
        if (HostCommand.Which("apt-get") is null || HostCommand.Which("dpkg-deb") is null)
            throw new RuntimeException($"no guest kernel: set {KernelVariable} to a kernel image, or install apt and dpkg to fetch Debian's");
        var package = MetapackageTarget();
        if (package is null)
        {
            progress("apt knows no linux-image-amd64: running apt-get update");
            HostCommand.Run("apt-get", "update", "-qq");
            package = MetapackageTarget() ?? throw new RuntimeException($"no guest kernel: apt knows no linux-image-amd64 package (set {KernelVariable} to a kernel image)");
        }
        Directory.CreateDirectory(dirs.Kernels);
        var download = Path.Combine(dirs.Kernels, ".download");
        Directory.CreateDirectory(download);
        progress($"fetching the guest kernel {package} with apt into {dirs.Kernels} (once; about 70 MB)");
        var (status, output) = HostCommand.Run("sh", "-c", $"cd '{download}' && apt-get download -q '{package}'");
        var deb = Directory.EnumerateFiles(download, "*.deb").FirstOrDefault();
        if (status != 0 || deb is null)
            throw new RuntimeException($"no guest kernel: apt-get download {package} failed: {output.Trim().Split('\n').LastOrDefault()}");
        var tree = Path.Combine(dirs.Kernels, package);
        var temp = tree + ".tmp";
        if (Directory.Exists(temp))
            Directory.Delete(temp, recursive: true);
        (status, output) = HostCommand.Run("dpkg-deb", "-x", deb, temp);
        if (status != 0)
            throw new RuntimeException($"no guest kernel: dpkg-deb -x {deb} failed: {output.Trim()}");
        Directory.Move(temp, tree);
        File.Delete(deb);
        progress($"guest kernel {package} ready");
        return Find(dirs) ?? throw new RuntimeException($"the package {package} has no boot/vmlinuz-*");
    }

    static string? MetapackageTarget()
    {
        var (status, output) = HostCommand.Run("apt-cache", "depends", "linux-image-amd64");
        if (status != 0)
            return null;
        foreach (var line in output.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("Depends: linux-image-", StringComparison.Ordinal) && t.EndsWith("-amd64", StringComparison.Ordinal) && char.IsDigit(t["Depends: linux-image-".Length]))
                return t["Depends: ".Length..];
        }
        return null;
    }
}
