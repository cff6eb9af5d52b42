using Moat.Scan.Inventory;
using Moat.Scan.Osv;

namespace Moat.Scan.Matching;

/// <summary>One known vulnerability in one installed package.</summary>
public sealed record Finding(string Id, InstalledPackage Package, string MatchedName, string InstalledVersion, string? FixedIn,
    Severity Severity, double? Score, string? Summary, IReadOnlyList<string> Aliases);

/// <summary>A scan's outcome: what was read, the ecosystem matched in, the findings (most severe first).</summary>
public sealed record ScanResult(ImageInventory Inventory, string Ecosystem, IReadOnlyList<Finding> Findings)
{
    public bool AnyAtOrAbove(Severity threshold) => Findings.Any(f => f.Severity != Severity.Unknown && f.Severity >= threshold);
}

/// <summary>
/// Matches an image's inventory against the imported OSV data of its distribution release. Distributions
/// publish advisories by source package (Debian's, Ubuntu's and Alpine's OSV records name source packages),
/// so a package is looked up by its source name first, as Trivy does, and then by its own name;
/// Red Hat's records name binary rpms, which the second lookup finds.
/// </summary>
public static class Scanner
{
    /// <summary>The engine's entry point (moat run --scan) as well as `moat scan`'s.</summary>
    public static ScanResult Scan(ImageInventory inventory, VulnerabilityDatabase database)
    {
        if (database.Count() == 0)
            throw new ScanException(VulnerabilityDatabase.EmptyMessage);
        var ecosystem = Ecosystems.ForImage(inventory.Os);
        if (database.Count(ecosystem) == 0)
        {
            var stored = database.Ecosystems();
            throw new ScanException($"the vulnerability database has no records for {ecosystem} (it holds {string.Join(", ", stored.Select(s => s.Ecosystem).Take(10))}): " +
                $"import that release's data (https://osv-vulnerabilities.storage.googleapis.com/{ecosystem.Split(':')[0]}/all.zip)");
        }
        var findings = new List<Finding>();
        var seen = new HashSet<(string Id, string Package, string? Architecture)>();
        foreach (var package in inventory.Packages)
        {
            var lookups = new List<(string Name, string Version)>();
            if (package.SourceName is { } source)
                lookups.Add((source, package.SourceVersion ?? package.Version));
            lookups.Add((package.Name, package.Version));
            foreach (var (name, version) in lookups)
                foreach (var row in database.Lookup(ecosystem, name))
                {
                    var (affected, fixedIn) = AffectedVersions.Check(package.Scheme, version, row.Ranges, row.Versions);
                    if (!affected || !seen.Add((row.Id, package.Name, package.Architecture)))
                        continue;
                    findings.Add(new Finding(row.Id, package, name, version, fixedIn, row.Severity, row.Score, row.Summary, row.Aliases));
                }
        }
        findings.Sort((a, b) =>
            b.Severity != a.Severity ? b.Severity.CompareTo(a.Severity)
            : string.CompareOrdinal(a.Package.Name, b.Package.Name) is var byName and not 0 ? byName
            : string.CompareOrdinal(a.Id, b.Id));
        return new ScanResult(inventory, ecosystem, findings);
    }
}
