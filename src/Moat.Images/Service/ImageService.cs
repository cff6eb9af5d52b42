using System.Text.Json;
using Moat.Images.Auth;
using Moat.Images.Distribution;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Images.Pull;
using Moat.Images.References;
using Moat.Images.Registries;
using Moat.Images.Snapshots;
using Moat.Images.Storage;

namespace Moat.Images.Service;

/// <summary>What the image commands need from the user's environment: where the store is and how to reach registries.</summary>
public sealed record ImageServiceOptions
{
    /// <summary>The `--root` flag; null for the user's default.</summary>
    public string? Root { get; init; }
    /// <summary>`--registries-conf`, or `$CONTAINERS_REGISTRIES_CONF`; null for the system's file.</summary>
    public string? RegistriesConf { get; init; }
    /// <summary>`--authfile`; null for podman's default places.</summary>
    public string? AuthFile { get; init; }
    /// <summary>`--tls-verify`: null leaves it to registries.conf (verified unless the registry is insecure).</summary>
    public bool? TlsVerify { get; init; }
    /// <summary>`--cert-dir`: CA and client certificates for this call.</summary>
    public string? CertDirectory { get; init; }
    /// <summary>`--creds user:password` for this call, ahead of the auth file.</summary>
    public RegistryCredential? Credentials { get; init; }
    public Action<string>? Warn { get; init; }
}

/// <summary>
/// The image store as the `moat` commands use it: the blob store, the catalogue, the snapshots and a
/// registry client, opened once per command. Every operation here is what one verb does.
/// </summary>
public sealed partial class ImageService : IDisposable
{
    readonly ImageServiceOptions options;
    readonly Lazy<RegistryClient> registry;
    readonly Lazy<RegistriesConfig> registries;
    readonly CredentialStore credentials;

    public StorageLayout Layout { get; }
    public BlobStore Blobs { get; }
    public ImageCatalog Catalog { get; }
    public SnapshotStore Snapshots { get; }
    public LocalNames Names { get; }

    public ImageService(ImageServiceOptions options)
    {
        this.options = options;
        Layout = StorageLayout.ForCurrentUser(options.Root).EnsureCreated();
        Blobs = Layout.OpenBlobStore();
        Catalog = Layout.OpenCatalog();
        Snapshots = new SnapshotStore(Layout.Root, rootless: !Layout.ForRoot);
        credentials = new CredentialStore(options.AuthFile);
        registries = new(() => RegistriesConfig.Load(options.RegistriesConf ?? Environment.GetEnvironmentVariable("CONTAINERS_REGISTRIES_CONF"), rootless: !Layout.ForRoot));
        registry = new(() => new RegistryClient(new RegistryClientOptions
        {
            Registries = registries.Value,
            TlsVerify = options.TlsVerify,
            CertDirectory = options.CertDirectory,
            Credentials = (registryHost, repository) => options.Credentials ?? credentials.Find(registryHost, repository),
        }));
        Names = new LocalNames(Catalog, SearchRegistries);
    }

    IReadOnlyList<string> SearchRegistries => registries.IsValueCreated || File.Exists(options.RegistriesConf ?? RegistriesConfig.SystemPath)
        ? registries.Value.UnqualifiedSearchRegistries
        : [];

    public RegistryClient Registry => registry.Value;
    public CredentialStore Credentials => credentials;

    UnpackOptions UnpackOptions => new() { Rootless = !Layout.ForRoot, Warn = options.Warn };

    /// <param name="verify">Checks the resolved image before anything is stored (the trust policy); throws to refuse it.</param>
    public async Task<ImageRecord> PullAsync(string text, PlatformSpec? platform, IPullProgress progress, CancellationToken cancellation = default,
        Func<ResolvedImage, CancellationToken, Task>? verify = null)
    {
        var reference = ImageReference.Parse(text);
        // From the first blob until the catalogue names the image, garbage collection must wait.
        using var hold = Blobs.HoldAgainstCollection(cancellation);
        return await new ImagePuller(Registry, Blobs, Snapshots, Catalog, UnpackOptions) { Verify = verify }.PullAsync(reference, platform, progress, cancellation).ConfigureAwait(false);
    }

    /// <summary>`moat push SOURCE [DESTINATION]`: the destination defaults to the source's own name.</summary>
    public Task<Digest> PushAsync(string source, string? destination, IPullProgress progress, CancellationToken cancellation = default)
    {
        var image = Names.Get(source);
        var target = ImageReference.Parse(destination ?? source);
        if (target.IsShortName)
            throw new InvalidReferenceException($"'{destination ?? source}' names no registry: push needs a full name such as localhost:5000/{target.ShortPath}");
        return new ImagePusher(Registry, Blobs).PushAsync(image, target, progress, cancellation);
    }

    public IReadOnlyList<ImageRecord> List() => Catalog.List();

    /// <summary>`moat tag SOURCE TARGET`: a short target is qualified as podman does (`localhost/NAME`).</summary>
    public ImageRecord Tag(string source, string target)
    {
        var image = Names.Get(source);
        Catalog.Tag(image.Id, QualifyForStore(target));
        return Catalog.Get(image.Id)!;
    }

    /// <summary>A name for the local store: short names become `localhost/NAME:TAG` (podman's rule for tag, import, load).</summary>
    public static string QualifyForStore(string text)
    {
        var reference = ImageReference.Parse(text);
        if (reference.Digest is not null)
            throw new InvalidReferenceException($"'{text}' has a digest; a tag names an image by tag");
        return (reference.IsShortName ? reference.InRegistry("localhost") : reference).FullName;
    }

    /// <summary>
    /// `moat rmi`: a name that is one of several only loses that name ("Untagged"); the last name, or an id,
    /// removes the image ("Deleted"). An id of an image with several names needs force. An image that
    /// containers use is refused unless forced; forced, it loses its names and stays until they are gone.
    /// </summary>
    public IReadOnlyList<string> Remove(string text, bool force)
    {
        var image = Names.Get(text);
        var lines = new List<string>();
        var byName = image.Names.FirstOrDefault(n => NameMatches(n, text));
        var users = Catalog.UsersOf(image.Id);
        if (byName is not null && image.Names.Count > 1)
        {
            Catalog.Untag(byName);
            lines.Add("Untagged: " + byName);
            return lines;
        }
        if (byName is null && image.Names.Count > 1 && !force)
            throw new ImageInUseException($"image {image.Id.Short} has several names ({string.Join(", ", image.Names)}): remove them one by one, or use --force");
        if (users.Count > 0 && !force)
            throw new ImageInUseException($"image {image.Id.Short} is in use by container{(users.Count > 1 ? "s" : "")} {string.Join(", ", users)}: remove {(users.Count > 1 ? "them" : "it")} first, or use --force to untag it");
        foreach (var name in image.Names)
        {
            Catalog.Untag(name);
            lines.Add("Untagged: " + name);
        }
        if (users.Count > 0)
            return lines;
        Catalog.Remove(image.Id);
        lines.Add("Deleted: " + image.Id);
        CollectGarbage();
        return lines;
    }

    bool NameMatches(string storedName, string text)
    {
        if (storedName == text) return true;
        if (!ImageReference.TryParse(text, out var reference) || reference is null) return false;
        return reference.IsShortName ? Names.ShortNameCandidates(reference).Contains(storedName) || storedName.EndsWith("/" + reference.ShortPath + ":" + (reference.Tag ?? "latest"), StringComparison.Ordinal)
            : reference.FullName == storedName;
    }

    /// <summary>`moat image prune`: dangling images (no names) that no container uses, or with <paramref name="all"/> every unused image.</summary>
    public (IReadOnlyList<Digest> Images, long BytesFreed) Prune(bool all)
    {
        var removed = new List<Digest>();
        foreach (var image in Catalog.List())
        {
            if (Catalog.UsersOf(image.Id).Count > 0 || (!all && image.Names.Count > 0))
                continue;
            Catalog.Remove(image.Id);
            removed.Add(image.Id);
        }
        var freed = CollectGarbage();
        return (removed, freed);
    }

    /// <summary>Removes blobs no image holds and snapshots no image or container layer uses; returns the bytes freed.</summary>
    public long CollectGarbage()
    {
        var blobs = GarbageCollector.Collect(Blobs, Catalog);
        var keep = new HashSet<Digest>();
        foreach (var image in Catalog.List())
            keep.UnionWith(ChainIdsOf(image));
        keep.UnionWith(Snapshots.ContainerLayerChainIds());
        // Partial downloads nobody resumed within a day are abandoned; newer ones wait for the next pull.
        long freed = blobs.BytesFreed + Blobs.PruneIngests(TimeSpan.FromDays(1));
        foreach (var (chainId, size) in Snapshots.List().ToList())
        {
            if (keep.Contains(chainId)) continue;
            Snapshots.Remove(chainId);
            freed += size;
        }
        return freed;
    }

    /// <summary>The chain ids of an image's layers, bottom first (from its config's diff_ids).</summary>
    public IReadOnlyList<Digest> ChainIdsOf(ImageRecord image) => Blobs.Contains(image.Id) ? ChainIdsOf(ConfigOf(image)) : [];

    /// <summary>The chain ids of the layers a config names, bottom first (its diff_ids), for a config already read.</summary>
    public static IReadOnlyList<Digest> ChainIdsOf(ImageConfig config)
    {
        var diffIds = new List<Digest>();
        foreach (var text in config.RootFs.DiffIds)
            if (Digest.TryParse(text, out var diffId))
                diffIds.Add(diffId);
        return SnapshotStore.ChainIds(diffIds);
    }

    public ImageConfig ConfigOf(ImageRecord image) =>
        ImageConfigReader.Read(Blobs.ReadAll(image.Id))
        ?? throw new InvalidOperationException($"the config of image {image.Id.Short} is empty");

    public ImageManifest ManifestOf(ImageRecord image) =>
        JsonSerializer.Deserialize(Blobs.ReadAll(image.ManifestDigest), ImageJsonContext.Default.ImageManifest)
        ?? throw new InvalidOperationException($"the manifest of image {image.Id.Short} is empty");

    public DiskUsageReport DiskUsage() => Storage.DiskUsage.Compute(Blobs, Catalog);

    public void Dispose()
    {
        if (registry.IsValueCreated) registry.Value.Dispose();
        Catalog.Dispose();
    }
}

/// <summary>An image cannot be removed as asked (in use, or named several times); the message says what to do.</summary>
public sealed class ImageInUseException(string message) : Exception(message);
