using System.Text;
using Moat.Scan.Inventory;

namespace Moat.Scan.Sbom;

/// <summary>Package URLs (https://github.com/package-url/purl-spec) for OS packages: pkg:deb, pkg:apk, pkg:rpm with arch and distro qualifiers.</summary>
public static class Purl
{
    public static string Of(InstalledPackage package, OsRelease? os)
    {
        var type = package.Kind switch { PackageKind.Deb => "deb", PackageKind.Apk => "apk", _ => "rpm" };
        var vendor = os?.Id ?? type switch { "deb" => "debian", "apk" => "alpine", _ => "redhat" };
        if (vendor == "rhel") vendor = "redhat";
        var version = package.Version;
        string? epoch = null;
        if (package.Kind == PackageKind.Rpm && version.IndexOf(':') is var colon and > 0)
        {
            // rpm purls carry the epoch as a qualifier, not in the version.
            epoch = version[..colon];
            version = version[(colon + 1)..];
        }
        var text = new StringBuilder("pkg:").Append(type).Append('/').Append(Encode(vendor)).Append('/').Append(Encode(package.Name))
            .Append('@').Append(Encode(version));
        var qualifiers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (package.Architecture is { Length: > 0 } arch) qualifiers["arch"] = arch;
        if (os is not null) qualifiers["distro"] = os.Distro;
        if (epoch is not null) qualifiers["epoch"] = epoch;
        var first = true;
        foreach (var (key, value) in qualifiers)
        {
            text.Append(first ? '?' : '&').Append(key).Append('=').Append(Encode(value));
            first = false;
        }
        return text.ToString();
    }

    /// <summary>Percent-encodes all but the unreserved characters (and ':' in versions, which the spec leaves readable).</summary>
    static string Encode(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~' or ':')
                text.Append(c);
            else
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
