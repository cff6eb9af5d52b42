namespace Moat.Oci;

/// <summary>Layout of an OCI bundle directory.</summary>
public static class Bundle
{
    public const string ConfigFileName = "config.json";

    /// <summary>Absolute path of the bundle's config.json.</summary>
    public static string ConfigPath(string bundleDirectory) =>
        Path.Combine(Path.GetFullPath(bundleDirectory), ConfigFileName);

    /// <summary>Absolute rootfs path: root.path as is when absolute, otherwise relative to the bundle.</summary>
    public static string ResolveRootfs(string bundleDirectory, Root root) =>
        Path.GetFullPath(root.Path, Path.GetFullPath(bundleDirectory));
}
