using System.Text.Json.Serialization;
using Moat.Runtime.Tiers;

namespace Moat.Runtime.Host;

/// <summary>What `moat info` prints: the host context and the tiers, as a document (JSON) or a table.</summary>
public sealed class HostReport
{
    [JsonPropertyName("kernel")] public required string Kernel { get; init; }
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }
    [JsonPropertyName("user")] public required string User { get; init; }
    [JsonPropertyName("root")] public required bool Root { get; init; }
    [JsonPropertyName("userNamespace")] public required bool UserNamespace { get; init; }
    [JsonPropertyName("cgroups")] public required CgroupReport Cgroups { get; init; }
    [JsonPropertyName("security")] public required SecurityReport Security { get; init; }
    [JsonPropertyName("features")] public required SortedDictionary<string, bool> Features { get; init; }
    [JsonPropertyName("tiers")] public required List<TierReport> Tiers { get; init; }

    public sealed class CgroupReport
    {
        [JsonPropertyName("layout")] public required string Layout { get; init; }
        [JsonPropertyName("driver")] public required string Driver { get; init; }
        [JsonPropertyName("hierarchies")] public required List<HierarchyReport> Hierarchies { get; init; }
    }

    public sealed class HierarchyReport
    {
        [JsonPropertyName("mountPoint")] public required string MountPoint { get; init; }
        [JsonPropertyName("version")] public required int Version { get; init; }
        [JsonPropertyName("controllers")] public required List<string> Controllers { get; init; }
    }

    public sealed class SecurityReport
    {
        /// <summary>Null when securityfs is not mounted (the list is unknown).</summary>
        [JsonPropertyName("lsms")] public required List<string>? Lsms { get; init; }
        [JsonPropertyName("apparmor")] public required bool AppArmor { get; init; }
        [JsonPropertyName("selinux")] public required bool Selinux { get; init; }
        [JsonPropertyName("landlockAbi")] public required int LandlockAbi { get; init; }
        [JsonPropertyName("seccompUserNotification")] public required bool SeccompUserNotification { get; init; }
        [JsonPropertyName("seccompFlags")] public required List<string> SeccompFlags { get; init; }
        /// <summary>Capabilities the runtime itself lacks (absent from its bounding set): no container here can have them.</summary>
        [JsonPropertyName("capabilitiesNotHeld")] public required List<string> CapabilitiesNotHeld { get; init; }
    }

    public sealed class TierReport
    {
        [JsonPropertyName("name")] public required string Name { get; init; }
        [JsonPropertyName("available")] public required bool Available { get; init; }
        [JsonPropertyName("built")] public required bool Built { get; init; }
        [JsonPropertyName("missing")] public required List<string> Missing { get; init; }
    }

    public static HostReport From(HostContext host, IEnumerable<TierAvailability> tiers)
    {
        var kernel = host.Kernel;
        var bounding = host.BoundingCapabilities;
        return new HostReport
        {
            Kernel = kernel.Release,
            Architecture = kernel.Architecture,
            User = host.Identity.UserName,
            Root = host.Identity.IsRoot,
            UserNamespace = host.Identity.InUserNamespace,
            Cgroups = new CgroupReport
            {
                Layout = host.CgroupLayout.ToString().ToLowerInvariant(),
                Driver = host.CgroupDriver,
                Hierarchies = host.Cgroups.Hierarchies.Select(h => new HierarchyReport
                {
                    MountPoint = h.MountPoint,
                    Version = h.IsV2 ? 2 : 1,
                    Controllers = [.. h.Controllers],
                }).ToList(),
            },
            Security = new SecurityReport
            {
                Lsms = host.Lsms?.ToList(),
                AppArmor = host.AppArmor,
                Selinux = host.Selinux,
                LandlockAbi = kernel.LandlockAbi,
                SeccompUserNotification = kernel.SeccompUserNotification,
                SeccompFlags = [.. kernel.SeccompFlags],
                CapabilitiesNotHeld = Enumerable.Range(0, Moat.Oci.Capabilities.Names.Count)
                    .Where(n => (bounding & (1UL << n)) == 0)
                    .Select(Moat.Oci.Capabilities.GetName).ToList(),
            },
            Features = new SortedDictionary<string, bool>(StringComparer.Ordinal)
            {
                ["userNamespaces"] = kernel.UserNamespaces,
                ["timeNamespaces"] = kernel.TimeNamespaces,
                ["cgroupNamespaces"] = kernel.CgroupNamespaces,
                ["idmappedMounts"] = kernel.IdmappedMounts,
                ["cloneIntoCgroup"] = kernel.CloneIntoCgroup,
                ["overlayfs"] = kernel.Overlayfs,
            },
            Tiers = tiers.Select(t => new TierReport
            {
                Name = t.Isolation.ToName(),
                Available = t.Available,
                Built = t.Built,
                Missing = [.. t.Missing],
            }).ToList(),
        };
    }

    /// <summary>The same facts as aligned "key: value" lines, for a person.</summary>
    public string ToTable()
    {
        var lines = new List<(string Key, string Value)>
        {
            ("kernel", $"{Kernel} ({Architecture})"),
            ("user", $"{User}{(Root ? " (root)" : "")}{(UserNamespace ? ", in a user namespace" : "")}"),
            ("cgroups", $"{Cgroups.Layout}, driver {Cgroups.Driver}"),
        };
        foreach (var h in Cgroups.Hierarchies)
            lines.Add(("", $"v{h.Version} {h.MountPoint}{(h.Controllers.Count > 0 ? " (" + string.Join(",", h.Controllers) + ")" : "")}"));
        lines.Add(("LSMs", Security.Lsms is null ? "unknown (securityfs is not mounted)" : Security.Lsms.Count > 0 ? string.Join(",", Security.Lsms) : "none"));
        lines.Add(("AppArmor", Security.AppArmor ? "enabled" : "not enabled"));
        lines.Add(("SELinux", Security.Selinux ? "enabled" : "not enabled"));
        lines.Add(("Landlock", Security.LandlockAbi > 0 ? $"ABI {Security.LandlockAbi}" : "not available"));
        lines.Add(("seccomp", (Security.SeccompUserNotification ? "user notification" : "no user notification")
                              + (Security.SeccompFlags.Count > 0 ? "; flags " + string.Join(",", Security.SeccompFlags.Select(f => f.Replace("SECCOMP_FILTER_FLAG_", ""))) : "")));
        lines.Add(("capabilities not held", Security.CapabilitiesNotHeld.Count > 0 ? string.Join(",", Security.CapabilitiesNotHeld) : "none"));
        lines.Add(("kernel features", string.Join(", ", Features.Select(f => $"{f.Key} {(f.Value ? "yes" : "no")}"))));
        foreach (var tier in Tiers)
            lines.Add(($"tier {tier.Name}", tier.Available ? "available"
                : (tier.Built ? "unavailable: " : "not built") + (tier.Missing.Count > 0 ? (tier.Built ? "" : "; host lacks: ") + string.Join("; ", tier.Missing) : "")));
        var width = lines.Max(l => l.Key.Length) + 2;
        return string.Concat(lines.Select(l => (l.Key.Length > 0 ? l.Key + ":" : "").PadRight(width) + l.Value + "\n"));
    }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(HostReport))]
public sealed partial class HostReportJsonContext : JsonSerializerContext;
