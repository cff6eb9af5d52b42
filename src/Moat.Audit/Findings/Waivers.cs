namespace Moat.Audit.Findings;

/// <summary>
/// Rules the user accepts, each with a reason: <c>--waive MOAT-A007=app writes to /var/cache</c>, or a file
/// of such lines (<c>#</c> starts a comment). An unknown id or a missing reason is refused, so a typo does
/// not silently waive nothing and every waiver says why.
/// </summary>
public sealed class Waivers
{
    readonly Dictionary<string, string> reasons = new(StringComparer.OrdinalIgnoreCase);

    public int Count => reasons.Count;

    public string? ReasonFor(string ruleId) => reasons.TryGetValue(ruleId, out var reason) ? reason : null;

    public static Waivers Parse(IEnumerable<string> entries, string? file, Func<string, bool> isKnownRule)
    {
        var waivers = new Waivers();
        foreach (var entry in entries)
            waivers.Add(entry, "--waive", isKnownRule);
        if (file is null) return waivers;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditException($"cannot read the waivers file {file}: {Moat.Oci.ErrorText.Reason(e)}");
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            if (line.Trim().Length == 0) continue;
            waivers.Add(line.Trim(), $"{file} line {i + 1}", isKnownRule);
        }
        return waivers;
    }

    void Add(string entry, string where, Func<string, bool> isKnownRule)
    {
        var equals = entry.IndexOf('=');
        if (equals < 0)
            throw new AuditException($"{where}: \"{entry}\" has no reason: write ID=reason (e.g. MOAT-A007=the app writes its cache)");
        var id = entry[..equals].Trim();
        var reason = entry[(equals + 1)..].Trim();
        if (id.Length == 0)
            throw new AuditException($"{where}: \"{entry}\" has no rule id before the '='");
        if (!isKnownRule(id))
            throw new AuditException($"{where}: no rule is called \"{id}\" (the rules are listed in docs/security.md)");
        if (reason.Length == 0)
            throw new AuditException($"{where}: the waiver of {id} has no reason after the '='");
        reasons[id.ToUpperInvariant()] = reason;
    }
}
