using System.Security.Cryptography;
using System.Text;
using Moat.Runtime;
using Moat.Vm.Guest;

namespace Moat.Vm.Provisioning;

/// <summary>
/// The guest's initramfs, built once per moat binary and kernel and kept in the data directory:
/// the moat binary itself as /init (the agent), the shared libraries it links and the libseccomp it
/// opens, an ld.so.cache for them, two device nodes, and the handful of kernel modules the agent
/// loads (virtio-mmio, virtio-serial, 9p, overlayfs, virtio-net) with what they depend on. Nothing else: no
/// shell, no busybox, no udev.
/// </summary>
public static class InitramfsBuilder
{
    /// <summary>The modules the agent needs; their dependencies are found in each module's modinfo.</summary>
    public static readonly string[] Modules = ["virtio_mmio", "virtio_console", "9pnet_virtio", "9p", "overlay", "virtio_net"];

    /// <summary>The initramfs for this binary and kernel: cached by the binary's identity and the kernel's.</summary>
    public static string Provide(VmDirectories dirs, GuestKernel kernel, string binary)
    {
        var info = new FileInfo(binary);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"2|{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{kernel.Image}|{kernel.Modules}")))[..16];
        Directory.CreateDirectory(dirs.Initramfs);
        var path = Path.Combine(dirs.Initramfs, $"agent-{key}.cpio");
        if (File.Exists(path))
            return path;
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
                Build(file, kernel, binary);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        // Older builds (another binary) are of no use any more.
        foreach (var old in Directory.EnumerateFiles(dirs.Initramfs, "agent-*.cpio"))
            if (old != path && File.GetLastWriteTimeUtc(old) < DateTime.UtcNow.AddMinutes(-10))
                File.Delete(old);
        return path;
    }

    static void Build(Stream output, GuestKernel kernel, string binary)
    {
        var staging = Directory.CreateTempSubdirectory("moat-initramfs-").FullName;
        try
        {
            Stage(staging, kernel, binary);
            var cpio = new CpioWriter(output);
            cpio.AddDirectory("dev");
            cpio.AddCharDevice("dev/console", 0x180 /* 0600 */, 5, 1);
            cpio.AddCharDevice("dev/null", 0x1B6 /* 0666 */, 1, 3);
            AddTree(cpio, staging, "");
            cpio.Finish();
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    static void Stage(string root, GuestKernel kernel, string binary)
    {
        foreach (var dir in new[] { "proc", "sys", "run", "tmp", "etc", "lib/modules" })
            Directory.CreateDirectory(Path.Combine(root, dir));
        Copy(binary, Path.Combine(root, "init"));
        foreach (var library in Libraries(binary))
            Copy(library, Path.Combine(root, library.TrimStart('/')));
        // libseccomp is opened with dlopen (src/Moat.Interop/Libseccomp.cs): ldd cannot see it.
        if (FindLibrary("libseccomp.so.2") is { } seccomp)
            foreach (var library in Libraries(seccomp).Append(seccomp))
                Copy(library, Path.Combine(root, library.TrimStart('/')));
        File.WriteAllText(Path.Combine(root, "etc/ld.so.conf"), "/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/lib64\n/usr/lib\n");
        if ((HostCommand.Which("ldconfig") ?? HostCommand.Which("/sbin/ldconfig")) is { } ldconfig)
            HostCommand.Run(ldconfig, "-r", root);
        File.WriteAllText(Path.Combine(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc/group"), "root:x:0:\n");
        if (kernel.Modules is { } modules)
        {
            var order = ModuleOrder(modules, Modules);
            foreach (var module in order)
                Copy(module.Path, Path.Combine(root, "lib/modules", module.Name + Path.GetExtension(module.Path)));
            File.WriteAllText(Path.Combine(root, GuestSetup.ModuleList.TrimStart('/')),
                string.Join('\n', order.Select(m => m.Name + Path.GetExtension(m.Path))) + "\n");
        }
    }

    static void Copy(string source, string destination)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        if (!File.Exists(destination))
            File.Copy(source, destination);
    }

    /// <summary>The shared libraries a program loads (ldd's resolved paths, the loader included).</summary>
    static IEnumerable<string> Libraries(string program)
    {
        var (status, output) = HostCommand.Run("ldd", program);
        if (status != 0)
            return []; // statically linked
        return output.Split('\n')
            .Select(line => line.Split(' ', '\t').FirstOrDefault(w => w.StartsWith('/')))
            .OfType<string>()
            .Where(File.Exists)
            .Distinct();
    }

    static string? FindLibrary(string name)
    {
        foreach (var dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib" })
            if (File.Exists(Path.Combine(dir, name)))
                return Path.Combine(dir, name);
        return null;
    }

    /// <summary>
    /// The modules to load, dependencies first, found through modules.order (their paths) and each
    /// module's "depends=" in its .modinfo section. A module the kernel has built in is in
    /// modules.builtin and needs nothing.
    /// </summary>
    public static IReadOnlyList<(string Name, string Path)> ModuleOrder(string modulesDirectory, IEnumerable<string> wanted)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        var orderFile = Path.Combine(modulesDirectory, "modules.order");
        var relative = File.Exists(orderFile)
            ? File.ReadAllLines(orderFile)
            : Directory.EnumerateFiles(modulesDirectory, "*.ko*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(modulesDirectory, p));
        foreach (var line in relative)
        {
            var file = line.Trim();
            if (file.Length == 0)
                continue;
            var full = Path.Combine(modulesDirectory, file);
            if (!File.Exists(full))
                continue;
            paths[NameOf(file)] = full;
        }
        var builtin = File.Exists(Path.Combine(modulesDirectory, "modules.builtin"))
            ? File.ReadAllLines(Path.Combine(modulesDirectory, "modules.builtin")).Select(NameOf).ToHashSet(StringComparer.Ordinal)
            : [];
        var order = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string name)
        {
            name = name.Replace('-', '_');
            if (!seen.Add(name) || builtin.Contains(name))
                return;
            if (!paths.TryGetValue(name, out var path))
                throw new RuntimeException($"the guest kernel's modules ({modulesDirectory}) have no {name}");
            foreach (var dependency in Dependencies(File.ReadAllBytes(path)))
                Visit(dependency);
            order.Add((name, path));
        }
        foreach (var name in wanted)
            Visit(name);
        return order;
    }

    static string NameOf(string file)
    {
        var name = Path.GetFileName(file.Trim());
        var dot = name.IndexOf(".ko", StringComparison.Ordinal);
        return (dot > 0 ? name[..dot] : name).Replace('-', '_');
    }

    /// <summary>The "depends=a,b" string of a module's modinfo (NUL-separated key=value strings in the ELF file).</summary>
    public static IEnumerable<string> Dependencies(ReadOnlySpan<byte> module)
    {
        var key = "\0depends="u8;
        var at = module.IndexOf(key);
        if (at < 0)
            return [];
        var rest = module[(at + key.Length)..];
        var end = rest.IndexOf((byte)0);
        var value = Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
        return value.Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    static void AddTree(CpioWriter cpio, string root, string prefix)
    {
        foreach (var entry in new DirectoryInfo(Path.Combine(root, prefix)).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var name = prefix.Length == 0 ? entry.Name : $"{prefix}/{entry.Name}";
            if (entry.LinkTarget is { } target)
                cpio.AddSymlink(name, target);
            else if (entry is DirectoryInfo)
            {
                cpio.AddDirectory(name, name == "tmp" ? 0x3FFu /* 1777 */ : 0x1EDu);
                AddTree(cpio, root, name);
            }
            else
                cpio.AddFile(name, File.ReadAllBytes(entry.FullName), (uint)File.GetUnixFileMode(entry.FullName) & 0xFFF);
        }
    }
}
