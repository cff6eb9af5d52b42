using Moat.Images.Model;

namespace Moat.Images.References;

/// <summary>
/// An image reference in docker's grammar (distribution/reference), normalised as podman and docker do:
/// `busybox` is a short name (docker.io/library/busybox:latest if taken literally, but a search over the
/// configured registries for podman), `localhost:5000/x` names its registry, and a reference carries a tag,
/// a digest, or both (`name:tag@sha256:...`: the digest decides what is pulled).
/// </summary>
public sealed class ImageReference : IEquatable<ImageReference>
{
    public const string DockerHub = "docker.io";
    public const string DefaultTag = "latest";
    const int MaxNameLength = 255;
    const int MaxTagLength = 128;

    /// <summary>`host[:port]` as written (docker.io for Docker Hub and for short names).</summary>
    public string Registry { get; }
    /// <summary>The repository path inside the registry (`library/busybox` on Docker Hub).</summary>
    public string Repository { get; }
    /// <summary>The tag; `latest` when the reference had neither tag nor digest; null for a digest-only reference.</summary>
    public string? Tag { get; }
    public Digest? Digest { get; }
    /// <summary>The input named no registry: podman resolves it over unqualified-search-registries.</summary>
    public bool IsShortName { get; }
    /// <summary>The path as written, before Docker Hub's `library/` (what a search registry is asked for).</summary>
    public string ShortPath { get; }

    ImageReference(string registry, string repository, string shortPath, string? tag, Digest? digest, bool isShortName)
    {
        Registry = registry; Repository = repository; ShortPath = shortPath; Tag = tag; Digest = digest; IsShortName = isShortName;
    }

    /// <summary>`registry/repository` without tag or digest.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>`registry/repository[:tag][@digest]`, the fully qualified form podman prints.</summary>
    public string FullName =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");

    /// <summary>What a manifest request asks for: the digest when there is one (it pins the content), else the tag.</summary>
    public string TagOrDigest => Digest?.ToString() ?? Tag ?? DefaultTag;

    public override string ToString() => FullName;

    /// <summary>The same reference in another registry (a short name expanded over a search registry).</summary>
    public ImageReference InRegistry(string registry)
    {
        var repository = registry == DockerHub && !ShortPath.Contains('/') ? "library/" + ShortPath : ShortPath;
        return new ImageReference(registry, repository, ShortPath, Tag, Digest, isShortName: false);
    }

    public ImageReference WithTag(string tag)
    {
        if (!IsValidTag(tag)) throw new InvalidReferenceException($"'{tag}' is not a valid tag: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
        return new ImageReference(Registry, Repository, ShortPath, tag, null, IsShortName);
    }

    public ImageReference WithDigest(Digest digest) => new(Registry, Repository, ShortPath, Tag, digest, IsShortName);

    public static bool TryParse(string? text, out ImageReference? reference)
    {
        try { reference = Parse(text!); return true; }
        catch (InvalidReferenceException) { reference = null; return false; }
    }

    public static ImageReference Parse(string text)
    {
        if (string.IsNullOrEmpty(text)) throw Invalid(text ?? "", "it is empty");
        if (text.Any(char.IsWhiteSpace)) throw Invalid(text, "it contains white space");
        if (text.Contains("://")) throw Invalid(text, "a reference names no scheme (drop the 'http://' or 'docker://')");

        var rest = text;
        Digest? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            var digestText = rest[(at + 1)..];
            if (!Model.Digest.TryParse(digestText, out var parsed))
                throw Invalid(text, $"'{digestText}' is not a digest (expected sha256:<64 lower-case hex digits> or sha512:<128>)");
            digest = parsed;
            rest = rest[..at];
        }

        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a registry port).
        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!IsValidTag(tag)) throw Invalid(text, $"'{tag}' is not a valid tag: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
        }
        if (rest.Length == 0) throw Invalid(text, "it has no repository name");

        string? registry = null;
        var path = rest;
        var slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            var first = rest[..slash];
            // docker's rule: the first component is a registry when it has a '.' or a ':', is localhost,
            // or has an upper-case letter (repository paths cannot).
            if (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper))
            {
                registry = first;
                path = rest[(slash + 1)..];
                if (!IsValidHost(registry)) throw Invalid(text, $"'{registry}' is not a valid registry host (expected host[:port])");
            }
        }

        if (path.Length == 0) throw Invalid(text, "it has no repository name");
        if (path.Any(char.IsUpper)) throw Invalid(text, "repository names must be lower-case");
        foreach (var component in path.Split('/'))
            if (!IsValidPathComponent(component))
                throw Invalid(text, component.Length == 0
                    ? "the repository path has an empty component ('//' or a '/' at an end)"
                    : $"'{component}' is not a valid repository path component (lower-case letters and digits, separated by '.', '_', '__' or dashes)");

        var isShort = registry is null;
        if (registry is "index.docker.io" or "registry-1.docker.io") registry = DockerHub;
        registry ??= DockerHub;
        var repository = registry == DockerHub && !path.Contains('/') ? "library/" + path : path;
        if (registry.Length + 1 + repository.Length > MaxNameLength)
            throw Invalid(text, $"the name is longer than {MaxNameLength} characters");
        if (tag is null && digest is null) tag = DefaultTag;
        return new ImageReference(registry, repository, path, tag, digest, isShort);
    }

    static InvalidReferenceException Invalid(string text, string why) => new($"invalid image reference '{text}': {why}");

    internal static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > MaxTagLength) return false;
        if (!IsWord(tag[0])) return false;
        foreach (var c in tag)
            if (!IsWord(c) && c is not ('.' or '-')) return false;
        return true;
    }

    static bool IsWord(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
    static bool IsLowerAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    /// <summary>`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.</summary>
    static bool IsValidPathComponent(string s)
    {
        if (s.Length == 0 || !IsLowerAlnum(s[0]) || !IsLowerAlnum(s[^1])) return false;
        var i = 0;
        while (i < s.Length)
        {
            if (IsLowerAlnum(s[i])) { i++; continue; }
            if (s[i] == '.') i++;
            else if (s[i] == '_') { i++; if (i < s.Length && s[i] == '_') i++; }
            else if (s[i] == '-') { while (i < s.Length && s[i] == '-') i++; }
            else return false;
            if (i >= s.Length || !IsLowerAlnum(s[i])) return false;
        }
        return true;
    }

    /// <summary>`host[:port]`: dot-separated labels of letters, digits and inner dashes, or a bracketed IPv6 address.</summary>
    internal static bool IsValidHost(string host)
    {
        var name = host;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']');
            if (close < 0 || !System.Net.IPAddress.TryParse(host[1..close], out _)) return false;
            var after = host[(close + 1)..];
            return after.Length == 0 || after[0] == ':' && IsPort(after[1..]);
        }
        var colon = host.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!IsPort(host[(colon + 1)..])) return false;
            name = host[..colon];
        }
        if (name.Length == 0) return false;
        foreach (var label in name.Split('.'))
        {
            if (label.Length == 0 || label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
        }
        return true;
    }

    static bool IsPort(string s) => s.Length is > 0 and <= 5 && s.All(char.IsAsciiDigit) && int.Parse(s) is > 0 and <= 65535;

    public bool Equals(ImageReference? other) => other is not null && FullName == other.FullName;
    public override bool Equals(object? obj) => Equals(obj as ImageReference);
    public override int GetHashCode() => FullName.GetHashCode(StringComparison.Ordinal);
}
