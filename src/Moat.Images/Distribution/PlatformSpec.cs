using System.Runtime.InteropServices;
using Moat.Images.Model;

namespace Moat.Images.Distribution;

/// <summary>`os/arch[/variant]` as `--platform` takes it, in the image spec's (Go's) names.</summary>
public sealed record PlatformSpec(string Os, string Architecture, string? Variant = null)
{
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>The host: linux and this machine's architecture (arm hosts with their usual variant).</summary>
    public static PlatformSpec Host { get; } = new("linux", ArchitectureName(RuntimeInformation.OSArchitecture), RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm => "v7",
        _ => null,
    });

    static string ArchitectureName(System.Runtime.InteropServices.Architecture architecture) => architecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm or System.Runtime.InteropServices.Architecture.Armv6 => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        System.Runtime.InteropServices.Architecture.LoongArch64 => "loong64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses `os/arch[/variant]`, accepting the common aliases (x86_64, aarch64).</summary>
    public static PlatformSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new FormatException($"'{text}' is not a platform: expected os/arch[/variant], such as linux/amd64 or linux/arm64/v8");
        var architecture = parts[1].ToLowerInvariant() switch
        {
            "x86_64" or "x86-64" => "amd64",
            "aarch64" => "arm64",
            "i386" or "i686" => "386",
            var a => a,
        };
        return new PlatformSpec(parts[0].ToLowerInvariant(), architecture, parts.Length == 3 ? parts[2].ToLowerInvariant() : null);
    }

    /// <summary>
    /// The index entry for this platform: os and architecture equal; a requested variant must match (arm64's
    /// v8 is its default, so an entry without variant matches v8 and the reverse); without a requested
    /// variant an entry with none or the default is preferred. Null when none fits.
    /// </summary>
    public Descriptor? Choose(ImageIndex index)
    {
        Descriptor? fallback = null;
        foreach (var entry in index.Manifests)
        {
            if (entry.Platform is not { } p || !MediaTypes.IsManifest(entry.MediaType) && !MediaTypes.IsIndex(entry.MediaType) && entry.MediaType.Length > 0) continue;
            if (!p.Os.Equals(Os, StringComparison.OrdinalIgnoreCase) || !p.Architecture.Equals(Architecture, StringComparison.OrdinalIgnoreCase)) continue;
            var entryVariant = NormalizeVariant(p.Variant);
            var wanted = NormalizeVariant(Variant);
            if (wanted is not null)
            {
                if (entryVariant == wanted) return entry;
                continue;
            }
            if (entryVariant is null || entryVariant == DefaultVariant(Architecture)) return entry;
            fallback ??= entry;
        }
        return fallback;
    }

    string? NormalizeVariant(string? variant) =>
        string.IsNullOrEmpty(variant) ? DefaultVariant(Architecture) : variant.ToLowerInvariant();

    static string? DefaultVariant(string architecture) => architecture switch { "arm64" => "v8", _ => null };

    /// <summary>The platforms an index offers, for the error when none fits.</summary>
    public static string Describe(ImageIndex index) =>
        string.Join(", ", index.Manifests.Where(m => m.Platform is not null && m.Platform.Os != "unknown").Select(m => m.Platform!.ToString()).Distinct());
}
