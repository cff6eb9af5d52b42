using Moat.Trust.Gpg;
using Moat.Trust.Signatures;

namespace Moat.Trust.Policy;

/// <summary>
/// How a signature's docker-reference must relate to the image being pulled or run (containers-policy.json(5),
/// `signedIdentity`), with containers/image's exact semantics: a signature that names only a repository
/// (as cosign's do) never satisfies matchExact or matchRepoDigestOrExact for a tagged image.
/// </summary>
public abstract record SignedIdentity
{
    /// <summary>Null when accepted, else why the signature's identity does not fit.</summary>
    public abstract string? Check(DockerReference image, string signed);

    public sealed record MatchExact : SignedIdentity
    {
        public override string? Check(DockerReference image, string signed) => Parse(signed, out var s) ?? (
            !s!.IsNameOnly && !image.IsNameOnly && s.ToString() == image.ToString() ? null : $"it is for {signed}, not exactly {image}");
    }

    public sealed record MatchRepoDigestOrExact : SignedIdentity
    {
        public override string? Check(DockerReference image, string signed) => Parse(signed, out var s) ?? Compare(image, s!, signed);

        internal static string? Compare(DockerReference image, DockerReference s, string signed)
        {
            if (s.IsNameOnly) return $"it names the repository {signed} without a tag or digest, which matchRepoDigestOrExact does not accept (use matchRepository)";
            if (image.Tag is not null) return s.ToString() == image.ToString() ? null : $"it is for {signed}, not {image}";
            if (image.Digest is not null) return s.Name == image.Name ? null : $"it is for {signed}, not the repository {image.Name}";
            return $"the image {image} has neither tag nor digest";
        }
    }

    public sealed record MatchRepository : SignedIdentity
    {
        public override string? Check(DockerReference image, string signed) => Parse(signed, out var s) ?? (
            s!.Name == image.Name ? null : $"it is for {signed}, not the repository {image.Name}");
    }

    public sealed record ExactReference(string DockerReference) : SignedIdentity
    {
        public override string? Check(DockerReference image, string signed)
        {
            var wanted = Signatures.DockerReference.TryParse(DockerReference)!;
            return Parse(signed, out var s) ?? (!s!.IsNameOnly && s.ToString() == wanted.ToString() ? null : $"it is for {signed}, not {DockerReference}");
        }
    }

    public sealed record ExactRepository(string DockerRepository) : SignedIdentity
    {
        public override string? Check(DockerReference image, string signed)
        {
            var wanted = Signatures.DockerReference.TryParse(DockerRepository)!;
            return Parse(signed, out var s) ?? (s!.Name == wanted.Name ? null : $"it is for {signed}, not the repository {DockerRepository}");
        }
    }

    /// <summary>The image's name with <see cref="Prefix"/> replaced by <see cref="SignedPrefix"/>, then matchRepoDigestOrExact (signatures made before a mirror copied the image).</summary>
    public sealed record RemapIdentity(string Prefix, string SignedPrefix) : SignedIdentity
    {
        public override string? Check(DockerReference image, string signed)
        {
            var intended = image;
            var text = image.ToString();
            if (MatchesPrefix(text, Prefix))
                intended = Signatures.DockerReference.TryParse(SignedPrefix + text[Prefix.Length..])
                    ?? throw new TrustConfigException($"remapIdentity turns {text} into \"{SignedPrefix + text[Prefix.Length..]}\", which is not a reference");
            return Parse(signed, out var s) ?? MatchRepoDigestOrExact.Compare(intended, s!, signed);
        }

        /// <summary>Every component of the prefix must be a whole component of the reference.</summary>
        internal static bool MatchesPrefix(string reference, string prefix) =>
            reference.Length == prefix.Length ? reference == prefix
            : reference.Length > prefix.Length && reference.StartsWith(prefix, StringComparison.Ordinal) && reference[prefix.Length] is ':' or '/' or '@';
    }

    static string? Parse(string signed, out DockerReference? reference)
    {
        reference = Signatures.DockerReference.TryParse(signed);
        return reference is null ? $"its docker-reference \"{signed}\" is not a valid reference" : null;
    }
}
