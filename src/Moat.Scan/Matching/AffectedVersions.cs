using Moat.Scan.Osv;
using Moat.Scan.Versions;

namespace Moat.Scan.Matching;

/// <summary>
/// OSV's rule for whether a version is affected (the schema's evaluation of ECOSYSTEM ranges): events
/// sorted by version; at or past an "introduced" it is affected, at or past a "fixed" (or past a
/// "last_affected") it is not, the last event that applies deciding. An explicit versions[] entry is affected too.
/// </summary>
public static class AffectedVersions
{
    /// <summary>Whether the installed version is affected, and the lowest fixed version above it in the range that says so.</summary>
    public static (bool Affected, string? FixedIn) Check(VersionScheme scheme, string installed, IReadOnlyList<IReadOnlyList<RangeEvent>> ranges, IReadOnlyList<string> versions)
    {
        foreach (var version in versions)
            if (VersionSchemes.Compare(scheme, installed, version) == 0)
                return (true, null);
        foreach (var range in ranges)
        {
            var sorted = range.ToList();
            sorted.Sort((a, b) => CompareEvents(scheme, a, b));
            var affected = false;
            foreach (var e in sorted)
            {
                if (e.Kind == RangeEventKind.Introduced && (IsZero(e) || VersionSchemes.Compare(scheme, installed, e.Version) >= 0))
                    affected = true;
                else if (e.Kind == RangeEventKind.Fixed && VersionSchemes.Compare(scheme, installed, e.Version) >= 0)
                    affected = false;
                else if (e.Kind == RangeEventKind.LastAffected && VersionSchemes.Compare(scheme, installed, e.Version) > 0)
                    affected = false;
            }
            if (!affected)
                continue;
            string? fixedIn = null;
            foreach (var e in sorted)
                if (e.Kind == RangeEventKind.Fixed && VersionSchemes.Compare(scheme, e.Version, installed) > 0)
                {
                    fixedIn = e.Version;
                    break;
                }
            return (true, fixedIn);
        }
        return (false, null);
    }

    /// <summary>"introduced": "0" means from the beginning: below every version.</summary>
    static bool IsZero(RangeEvent e) => e.Kind == RangeEventKind.Introduced && e.Version == "0";

    static int CompareEvents(VersionScheme scheme, RangeEvent a, RangeEvent b)
    {
        if (IsZero(a) || IsZero(b))
            return IsZero(a) == IsZero(b) ? 0 : IsZero(a) ? -1 : 1;
        return VersionSchemes.Compare(scheme, a.Version, b.Version);
    }
}
