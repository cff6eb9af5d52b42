namespace Moat.Scan.Versions;

/// <summary>Which distribution's rules order the versions of a package.</summary>
public enum VersionScheme { Dpkg, Apk, Rpm }

public static class VersionSchemes
{
    public static int Compare(VersionScheme scheme, string a, string b) => scheme switch
    {
        VersionScheme.Dpkg => DpkgVersion.Compare(a, b),
        VersionScheme.Apk => ApkVersion.Compare(a, b),
        VersionScheme.Rpm => RpmVersion.Compare(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(scheme)),
    };
}
