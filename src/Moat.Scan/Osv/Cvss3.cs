namespace Moat.Scan.Osv;

/// <summary>
/// The CVSS v3.0/v3.1 base score of a vector ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" → 9.8),
/// by the specification's formulas, with 3.1's Roundup. Only the eight base metrics are used.
/// </summary>
public static class Cvss3
{
    public static double? TryBaseScore(string vector)
    {
        if (!vector.StartsWith("CVSS:3.", StringComparison.Ordinal))
            return null;
        var metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in vector.Split('/').Skip(1))
        {
            var colon = part.IndexOf(':');
            if (colon <= 0) return null;
            metrics[part[..colon]] = part[(colon + 1)..];
        }
        string? M(string key) => metrics.GetValueOrDefault(key);
        var changed = M("S") switch { "U" => false, "C" => true, _ => (bool?)null };
        double? av = M("AV") switch { "N" => 0.85, "A" => 0.62, "L" => 0.55, "P" => 0.2, _ => null };
        double? ac = M("AC") switch { "L" => 0.77, "H" => 0.44, _ => null };
        double? pr = M("PR") switch { "N" => 0.85, "L" => changed == true ? 0.68 : 0.62, "H" => changed == true ? 0.5 : 0.27, _ => null };
        double? ui = M("UI") switch { "N" => 0.85, "R" => 0.62, _ => null };
        static double? Cia(string? v) => v switch { "H" => 0.56, "L" => 0.22, "N" => 0.0, _ => null };
        var c = Cia(M("C"));
        var i = Cia(M("I"));
        var a = Cia(M("A"));
        if (changed is null || av is null || ac is null || pr is null || ui is null || c is null || i is null || a is null)
            return null;
        var iss = 1 - (1 - c.Value) * (1 - i.Value) * (1 - a.Value);
        var impact = changed.Value ? 7.52 * (iss - 0.029) - 3.25 * Math.Pow(iss - 0.02, 15) : 6.42 * iss;
        var exploitability = 8.22 * av.Value * ac.Value * pr.Value * ui.Value;
        if (impact <= 0)
            return 0;
        return changed.Value ? Roundup(Math.Min(1.08 * (impact + exploitability), 10)) : Roundup(Math.Min(impact + exploitability, 10));
    }

    /// <summary>The smallest number with one decimal at or above x (CVSS 3.1 Appendix A, free of floating-point surprises).</summary>
    static double Roundup(double x)
    {
        var integer = (long)Math.Round(x * 100000);
        return integer % 10000 == 0 ? integer / 100000.0 : (Math.Floor(integer / 10000.0) + 1) / 10.0;
    }
}
