using System.Globalization;
using System.Text.Json;
using Moat.Oci;
using Moat.Oci.Profiles;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// `--security-opt seccomp=FILE`: a profile in docker's format (moby profiles/seccomp/default.json, which
/// podman reads too) turned into the OCI config's linux.seccomp the way docker does when it writes a spec:
/// <c>archMap</c> picks the native architecture and its sub-architectures, and each rule's
/// <c>includes</c>/<c>excludes</c> (caps, arches, minKernel) are resolved for this container's
/// capabilities and this host, so only the rules that apply are written. A plain OCI linux.seccomp
/// object (no conditions) is read the same way.
/// </summary>
public static class SeccompProfileFile
{
    /// <summary>Go's machine names to the native seccomp architecture, for archMap.</summary>
    static readonly Dictionary<string, string> NativeArch = new(StringComparer.Ordinal)
    {
        ["amd64"] = "SCMP_ARCH_X86_64", ["arm64"] = "SCMP_ARCH_AARCH64", ["x86"] = "SCMP_ARCH_X86", ["arm"] = "SCMP_ARCH_ARM",
        ["ppc64le"] = "SCMP_ARCH_PPC64LE", ["s390x"] = "SCMP_ARCH_S390X", ["s390"] = "SCMP_ARCH_S390", ["riscv64"] = "SCMP_ARCH_RISCV64",
        ["loong64"] = "SCMP_ARCH_LOONGARCH64",
    };

    public static LinuxSeccomp Load(string path, IReadOnlySet<string> capabilities)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunFlagException($"--security-opt seccomp={path} cannot be read: {e.Message}");
        }
        return Convert(json, path, capabilities, DefaultSeccompProfile.HostMachine, KernelRelease());
    }

    public static LinuxSeccomp Convert(string json, string path, IReadOnlySet<string> capabilities, string machine, Version kernel)
    {
        RunFlagException Bad(string what) => new($"--security-opt seccomp={path}: {what}");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw Bad($"not JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad("the profile is not a JSON object");
            var profile = new LinuxSeccomp
            {
                DefaultAction = Action(String(root, "defaultAction") ?? throw Bad("defaultAction is missing"), Bad),
                DefaultErrnoRet = UInt(root, "defaultErrnoRet", Bad),
                ListenerPath = String(root, "listenerPath"),
                ListenerMetadata = String(root, "listenerMetadata"),
                Syscalls = [],
            };
            var architectures = Strings(root, "architectures", Bad);
            if (architectures.Count == 0 && root.TryGetProperty("archMap", out var archMap) && archMap.ValueKind == JsonValueKind.Array)
            {
                var native = NativeArch.GetValueOrDefault(machine);
                foreach (var entry in archMap.EnumerateArray())
                {
                    if (native is null || String(entry, "architecture") != native)
                        continue;
                    architectures.Add(native);
                    architectures.AddRange(Strings(entry, "subArchitectures", Bad));
                }
            }
            foreach (var arch in architectures)
                if (!SeccompNames.IsArchitecture(arch))
                    throw Bad($"unknown architecture \"{arch}\"");
            profile.Architectures = architectures.Count > 0 ? architectures : null;
            var flags = Strings(root, "flags", Bad);
            foreach (var flag in flags)
                if (!SeccompNames.IsFlag(flag))
                    throw Bad($"unknown flag \"{flag}\"");
            profile.Flags = flags.Count > 0 ? flags : null;

            if (root.TryGetProperty("syscalls", out var syscalls) && syscalls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in syscalls.EnumerateArray())
                {
                    if (!Applies(call, capabilities, machine, kernel, Bad))
                        continue;
                    var names = Strings(call, "names", Bad);
                    if (String(call, "name") is { Length: > 0 } single)
                        names.Add(single);
                    if (names.Count == 0)
                        throw Bad("a rule names no system call");
                    profile.Syscalls.Add(new LinuxSyscall
                    {
                        Names = names,
                        Action = Action(String(call, "action") ?? throw Bad($"the rule for {names[0]} has no action"), Bad),
                        ErrnoRet = UInt(call, "errnoRet", Bad),
                        Args = Args(call, Bad),
                    });
                }
            }
            return profile;
        }
    }

    static bool Applies(JsonElement call, IReadOnlySet<string> capabilities, string machine, Version kernel, Func<string, RunFlagException> bad)
    {
        if (call.TryGetProperty("includes", out var includes) && includes.ValueKind == JsonValueKind.Object)
        {
            var caps = Strings(includes, "caps", bad);
            var arches = Strings(includes, "arches", bad);
            if (caps.Count > 0 && !caps.All(capabilities.Contains))
                return false;
            if (arches.Count > 0 && !arches.Contains(machine))
                return false;
            if (String(includes, "minKernel") is { Length: > 0 } min)
            {
                if (!TryVersion(min, out var needed))
                    throw bad($"minKernel \"{min}\" is not a kernel version");
                if (kernel < needed)
                    return false;
            }
        }
        if (call.TryGetProperty("excludes", out var excludes) && excludes.ValueKind == JsonValueKind.Object)
        {
            if (Strings(excludes, "caps", bad).Any(capabilities.Contains))
                return false;
            if (Strings(excludes, "arches", bad).Contains(machine))
                return false;
        }
        return true;
    }

    static List<LinuxSeccompArg>? Args(JsonElement call, Func<string, RunFlagException> bad)
    {
        if (!call.TryGetProperty("args", out var args) || args.ValueKind != JsonValueKind.Array)
            return null;
        var list = new List<LinuxSeccompArg>();
        foreach (var arg in args.EnumerateArray())
        {
            var op = String(arg, "op") ?? throw bad("an argument rule has no op");
            if (!SeccompNames.IsOperator(op))
                throw bad($"unknown operator \"{op}\"");
            list.Add(new LinuxSeccompArg
            {
                Index = (uint)(ULong(arg, "index", bad) ?? 0),
                Value = ULong(arg, "value", bad) ?? 0,
                ValueTwo = ULong(arg, "valueTwo", bad) ?? 0,
                Op = op,
            });
        }
        return list.Count > 0 ? list : null;
    }

    static string Action(string action, Func<string, RunFlagException> bad) =>
        SeccompNames.IsAction(action) ? action : throw bad($"unknown action \"{action}\"");

    static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static List<string> Strings(JsonElement element, string name, Func<string, RunFlagException> bad)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return [];
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
            throw bad($"{name} is not a list of strings");
        return value.EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    static uint? UInt(JsonElement element, string name, Func<string, RunFlagException> bad) =>
        ULong(element, name, bad) is { } v ? v <= uint.MaxValue ? (uint)v : throw bad($"{name} is out of range") : null;

    static ulong? ULong(JsonElement element, string name, Func<string, RunFlagException> bad)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var number) ? number : throw bad($"{name} is not a number of 0 or more");
    }

    static bool TryVersion(string text, out Version version)
    {
        var numbers = text.Split('.', '-')[..Math.Min(2, text.Split('.', '-').Length)];
        version = new Version();
        if (numbers.Length < 2 || !int.TryParse(numbers[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(numbers[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            return false;
        version = new Version(major, minor);
        return true;
    }

    /// <summary>The running kernel's major.minor (from /proc/sys/kernel/osrelease).</summary>
    public static Version KernelRelease()
    {
        try
        {
            return TryVersion(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), out var version) ? version : new Version(0, 0);
        }
        catch (IOException)
        {
            return new Version(0, 0);
        }
    }
}
