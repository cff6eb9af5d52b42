using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Storage;

namespace Moat.Images.Service;

/// <summary>
/// Finds a stored image from what a user typed, as podman does: a full name; a short name tried as
/// `localhost/NAME`, then in each unqualified-search registry (docker.io adds `library/`), then as the
/// last path components of any stored name (ambiguity is an error naming the candidates); an id, `sha256:`
/// id or unique id prefix.
/// </summary>
public sealed class LocalNames(IImageCatalog catalog, IReadOnlyList<string> searchRegistries)
{
    public ImageRecord? Find(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ImageNotFoundException("an image name or id is required");
        if (ImageReference.TryParse(text, out var reference) && reference is not null)
        {
            if (!reference.IsShortName)
                return catalog.Find(reference.FullName) ?? FindById(text);
            foreach (var candidate in ShortNameCandidates(reference))
                if (catalog.Find(candidate) is { } image)
                    return image;
            if (FindBySuffix(reference) is { } bySuffix)
                return bySuffix;
        }
        return FindById(text);
    }

    public ImageRecord Get(string text) =>
        Find(text) ?? throw new ImageNotFoundException($"image '{text}' is not in the local store (see `moat images`; `moat pull {text}` fetches it)");

    /// <summary>The full names a short name stands for locally, most specific first.</summary>
    public IEnumerable<string> ShortNameCandidates(ImageReference reference)
    {
        yield return reference.InRegistry("localhost").FullName;
        foreach (var registry in searchRegistries)
            yield return reference.InRegistry(registry).FullName;
        if (!searchRegistries.Contains(ImageReference.DockerHub))
            yield return reference.InRegistry(ImageReference.DockerHub).FullName;
    }

    ImageRecord? FindBySuffix(ImageReference reference)
    {
        var suffix = "/" + reference.ShortPath + (reference.Digest is { } d ? "@" + d : ":" + (reference.Tag ?? ImageReference.DefaultTag));
        var matches = catalog.List()
            .SelectMany(image => image.Names.Concat(image.RepoDigests).Select(name => (name, image)))
            .Where(pair => pair.name.EndsWith(suffix, StringComparison.Ordinal))
            .ToList();
        var images = matches.Select(m => m.image.Id).Distinct().ToList();
        if (images.Count > 1)
            throw new ImageNotFoundException($"short name '{reference.ShortPath}' matches several stored images ({string.Join(", ", matches.Select(m => m.name))}): give the full name");
        return images.Count == 1 ? matches[0].image : null;
    }

    ImageRecord? FindById(string text) => catalog.Find(text);
}

/// <summary>The image asked for is not stored (or the name is ambiguous); the message says which and what to do.</summary>
public sealed class ImageNotFoundException(string message) : Exception(message);
