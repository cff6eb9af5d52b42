namespace Moat.Images.Layers;

/// <summary>Removes a directory tree without following symlinks out of it (partial unpacks, snapshots, container layers).</summary>
public static class TreeRemoval
{
    /// <summary>Removes path and everything under it; a missing path is not an error.</summary>
    public static void Remove(string path) => RootedDirectory.RemoveTree(path);
}
