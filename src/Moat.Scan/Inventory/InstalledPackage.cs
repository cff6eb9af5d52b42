using Moat.Scan.Versions;

namespace Moat.Scan.Inventory;

/// <summary>The package managers whose databases are read.</summary>
public enum PackageKind { Deb, Apk, Rpm }

/// <summary>
/// One installed OS package as its package manager records it. <see cref="Version"/> is the full
/// version the manager compares ("1:2.5.1-4", "1.2.3-r0", "1:3.0.7-27.el9" with the epoch when there is one).
/// </summary>
public sealed record InstalledPackage
{
    public required PackageKind Kind { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    /// <summary>The source package it was built from (dpkg Source:, apk origin, rpm SOURCERPM's name); null when the same as Name or unknown.</summary>
    public string? SourceName { get; init; }
    /// <summary>The source package's version when it differs from the binary's (dpkg "Source: name (version)").</summary>
    public string? SourceVersion { get; init; }
    public string? Architecture { get; init; }
    public string? License { get; init; }
    /// <summary>The database the package was read from, as a path in the image.</summary>
    public required string Database { get; init; }

    public VersionScheme Scheme => Kind switch
    {
        PackageKind.Deb => VersionScheme.Dpkg,
        PackageKind.Apk => VersionScheme.Apk,
        _ => VersionScheme.Rpm,
    };
}
