using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Oci;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Moat's default seccomp profile: an allow list equivalent to the one Docker and Podman ship,
/// kept as an embedded resource (Resources/default-seccomp.json) in a richer form than OCI's:
/// rules may be limited to containers that hold (<c>includes.caps</c>) or lack
/// (<c>excludes.caps</c>) capabilities, and to machines (<c>includes.arches</c>/<c>excludes.arches</c>,
/// uname -m names). <see cref="For"/> resolves those conditions into a plain OCI linux.seccomp.
/// </summary>
public static class DefaultSeccompProfile
{
    const string ResourceName = "Moat.Runtime.Resources.default-seccomp.json";

    static DefaultProfileDocument? document;

    /// <summary>
    /// The profile for a container with these capabilities (use the bounding set, as Docker does)
    /// on machine <paramref name="arch"/> ("x86_64", "aarch64", ...; "amd64"/"arm64" are accepted
    /// too). A rule with includes.caps needs every listed capability; a rule with excludes.caps
    /// is dropped when any listed capability is held. Each call returns a new object.
    /// </summary>
    public static LinuxSeccomp For(IEnumerable<string> capabilities, string arch = "x86_64")
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        var profile = Document;
        var caps = capabilities.ToHashSet(StringComparer.Ordinal);
        var machine = NormalizeMachine(arch);

        var result = new LinuxSeccomp
        {
            DefaultAction = profile.DefaultAction,
            DefaultErrnoRet = profile.DefaultErrnoRet,
            Architectures = profile.ArchMap.FirstOrDefault(a => a.Machine == machine)?.Architectures.ToList() ?? [],
            Syscalls = [],
        };
        foreach (var rule in profile.Syscalls)
        {
            if (!Applies(rule, caps, machine))
                continue;
            result.Syscalls.Add(new LinuxSyscall
            {
                Names = [.. rule.Names],
                Action = rule.Action,
                ErrnoRet = rule.ErrnoRet,
                Args = rule.Args?.Select(a => new LinuxSeccompArg { Index = a.Index, Value = a.Value, ValueTwo = a.ValueTwo, Op = a.Op }).ToList(),
            });
        }
        return result;
    }

    /// <summary>The uname -m name of the machine this process runs on ("x86_64", "aarch64"...).</summary>
    public static string HostMachine => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        Architecture.X86 => "i686",
        Architecture.Arm or Architecture.Armv6 => "armv7l",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loongarch64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>The machines the profile has an architecture list for.</summary>
    public static IReadOnlyList<string> Machines => Document.ArchMap.Select(a => a.Machine).ToList();

    static string NormalizeMachine(string arch) => arch switch
    {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "386" or "i386" or "i586" or "i686" => "i686",
        "arm" or "armv7l" or "armhf" => "armv7l",
        _ => arch,
    };

    static bool Applies(DefaultProfileRule rule, HashSet<string> caps, string machine)
    {
        if (rule.Includes is { } includes)
        {
            if (includes.Caps is { Count: > 0 } needed && !needed.All(caps.Contains))
                return false;
            if (includes.Arches is { Count: > 0 } onlyOn && !onlyOn.Contains(machine))
                return false;
        }
        if (rule.Excludes is { } excludes)
        {
            if (excludes.Caps is { Count: > 0 } unless && unless.Any(caps.Contains))
                return false;
            if (excludes.Arches is { Count: > 0 } notOn && notOn.Contains(machine))
                return false;
        }
        return true;
    }

    internal static DefaultProfileDocument Document => document ??= Load();

    static DefaultProfileDocument Load()
    {
        using var stream = typeof(DefaultSeccompProfile).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing from {typeof(DefaultSeccompProfile).Assembly.GetName().Name}");
        return JsonSerializer.Deserialize(stream, DefaultProfileJsonContext.Default.DefaultProfileDocument)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is empty");
    }
}

/// <summary>Resources/default-seccomp.json.</summary>
internal sealed class DefaultProfileDocument
{
    [JsonPropertyName("comment")]
    public string? Comment { get; set; }

    [JsonPropertyName("defaultAction")]
    public string DefaultAction { get; set; } = "";

    [JsonPropertyName("defaultErrnoRet")]
    public uint? DefaultErrnoRet { get; set; }

    /// <summary>For each machine, the seccomp architectures its containers may use.</summary>
    [JsonPropertyName("archMap")]
    public List<DefaultProfileArch> ArchMap { get; set; } = [];

    [JsonPropertyName("syscalls")]
    public List<DefaultProfileRule> Syscalls { get; set; } = [];
}

internal sealed class DefaultProfileArch
{
    /// <summary>uname -m name: x86_64, aarch64...</summary>
    [JsonPropertyName("machine")]
    public string Machine { get; set; } = "";

    [JsonPropertyName("architectures")]
    public List<string> Architectures { get; set; } = [];
}

internal sealed class DefaultProfileRule
{
    [JsonPropertyName("comment")]
    public string? Comment { get; set; }

    [JsonPropertyName("names")]
    public List<string> Names { get; set; } = [];

    [JsonPropertyName("action")]
    public string Action { get; set; } = "";

    [JsonPropertyName("errnoRet")]
    public uint? ErrnoRet { get; set; }

    [JsonPropertyName("args")]
    public List<DefaultProfileArg>? Args { get; set; }

    [JsonPropertyName("includes")]
    public DefaultProfileCondition? Includes { get; set; }

    [JsonPropertyName("excludes")]
    public DefaultProfileCondition? Excludes { get; set; }
}

internal sealed class DefaultProfileArg
{
    [JsonPropertyName("index")]
    public uint Index { get; set; }

    [JsonPropertyName("value")]
    public ulong Value { get; set; }

    [JsonPropertyName("valueTwo")]
    public ulong ValueTwo { get; set; }

    [JsonPropertyName("op")]
    public string Op { get; set; } = "";
}

internal sealed class DefaultProfileCondition
{
    [JsonPropertyName("caps")]
    public List<string>? Caps { get; set; }

    /// <summary>uname -m machine names.</summary>
    [JsonPropertyName("arches")]
    public List<string>? Arches { get; set; }
}
