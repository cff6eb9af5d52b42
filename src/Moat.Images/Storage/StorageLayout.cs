using Moat.Interop;

namespace Moat.Images.Storage;

/// <summary>
/// Where Moat keeps images and containers: `/var/lib/moat` for root, `$XDG_DATA_HOME/moat` (default
/// `~/.local/share/moat`) for everyone else, or wherever `--root` says.
/// <code>
/// &lt;root&gt;/images/       the OCI image layout (oci-layout, index.json, blobs/, ingest/)
/// &lt;root&gt;/images.db     the image catalogue (SQLite)
/// &lt;root&gt;/snapshots/    unpacked layers
/// &lt;root&gt;/containers/   per-container state and upper layers
/// </code>
/// </summary>
public sealed class StorageLayout
{
    public const string DefaultRootForRoot = "/var/lib/moat";

    // Root's tree: the top, snapshots/ and containers/ are 0711 so that a container whose root is mapped
    // to another uid (a user namespace) can still reach its rootfs below them, as containers/storage
    // does for remapped storage; 0711 lets nobody list them. images/ is 0700: only Moat reads blobs.
    // A user's tree is 0700 throughout: their containers' root maps to the user, who owns it all.
    const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode Traversable = Private | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public StorageLayout(string root, bool forRoot)
    {
        if (string.IsNullOrWhiteSpace(root))
            throw new ArgumentException("the storage root is empty: give a directory", nameof(root));
        Root = Path.GetFullPath(root);
        ForRoot = forRoot;
    }

    /// <summary>The top directory.</summary>
    public string Root { get; }
    /// <summary>Whether this tree serves root (its modes let user-namespaced containers traverse it).</summary>
    public bool ForRoot { get; }
    public string Images => Path.Combine(Root, "images");
    public string CatalogDatabase => Path.Combine(Root, "images.db");
    public string Snapshots => Path.Combine(Root, "snapshots");
    public string Containers => Path.Combine(Root, "containers");

    /// <summary>The layout for the calling user: <paramref name="rootOverride"/> (the `--root` flag) when given, else the default.</summary>
    public static StorageLayout ForCurrentUser(string? rootOverride)
    {
        var isRoot = RootlessIdentity.IsRealRoot;
        return new StorageLayout(string.IsNullOrEmpty(rootOverride) ? DefaultRoot(isRoot) : rootOverride, isRoot);
    }

    /// <summary>The default root: `/var/lib/moat` for root, `$XDG_DATA_HOME/moat` or `~/.local/share/moat` otherwise.</summary>
    public static string DefaultRoot(bool isRoot) =>
        DefaultRoot(isRoot, Environment.GetEnvironmentVariable("XDG_DATA_HOME"), Environment.GetEnvironmentVariable("HOME"));

    internal static string DefaultRoot(bool isRoot, string? dataHome, string? home)
    {
        if (isRoot)
            return DefaultRootForRoot;
        // The XDG spec says a relative XDG_DATA_HOME is invalid and is to be ignored.
        if (!string.IsNullOrEmpty(dataHome) && Path.IsPathRooted(dataHome))
            return Path.Combine(dataHome, "moat");
        if (string.IsNullOrEmpty(home) || !Path.IsPathRooted(home))
            throw new StorageException("cannot place the image store: neither XDG_DATA_HOME nor HOME is set to an absolute path; give --root");
        return Path.Combine(home, ".local", "share", "moat");
    }

    /// <summary>Creates the directories that are missing (existing ones keep their modes: the owner may have chosen them).</summary>
    public StorageLayout EnsureCreated()
    {
        var shared = ForRoot ? Traversable : Private;
        CreateDirectory(Root, shared);
        CreateDirectory(Images, Private);
        CreateDirectory(Snapshots, shared);
        CreateDirectory(Containers, shared);
        return this;
    }

    /// <summary>The blob store in <see cref="Images"/>.</summary>
    public BlobStore OpenBlobStore() => new(EnsureCreated().Images);

    /// <summary>The catalogue in <see cref="CatalogDatabase"/>.</summary>
    public ImageCatalog OpenCatalog() => new(EnsureCreated().CatalogDatabase);

    static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (Directory.Exists(path))
            return;
        try
        {
            // Parents that do not exist yet (~/.local/share) get the user's private mode.
            var parent = Path.GetDirectoryName(path);
            if (parent is not null && !Directory.Exists(parent))
                Directory.CreateDirectory(parent, Private);
            Directory.CreateDirectory(path, mode);
            // The umask may have taken bits away from the mode (an 0711 under umask 077).
            File.SetUnixFileMode(path, mode);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StorageException($"cannot create {path}: permission denied (is the storage root, --root, writable by this user?)", e);
        }
    }
}
