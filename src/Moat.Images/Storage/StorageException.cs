using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>A storage operation that cannot be done: the message says what and why, for the user to read.</summary>
public class StorageException : Exception
{
    public StorageException(string message) : base(message) { }
    public StorageException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A blob that the store does not hold.</summary>
public sealed class BlobNotFoundException(Digest digest, string path)
    : StorageException($"blob {digest} is not in the image store ({path} does not exist)")
{
    public Digest Digest { get; } = digest;
}

/// <summary>Content that does not match the digest or size it was announced with; the bytes were discarded.</summary>
public sealed class BlobVerificationException(Digest expected, Digest actual, long expectedSize, long actualSize)
    : StorageException(Describe(expected, actual, expectedSize, actualSize))
{
    public Digest Expected { get; } = expected;
    public Digest Actual { get; } = actual;
    public long ExpectedSize { get; } = expectedSize;
    public long ActualSize { get; } = actualSize;

    static string Describe(Digest expected, Digest actual, long expectedSize, long actualSize) =>
        expectedSize >= 0 && expectedSize != actualSize
            ? $"blob {expected} was expected to be {expectedSize} bytes but {actualSize} bytes arrived (their digest is {actual}); the bytes were discarded"
            : $"blob content does not match its digest: expected {expected}, got {actual}; the bytes were discarded";
}

/// <summary>A short id that more than one image's id starts with.</summary>
public sealed class AmbiguousImageException(string prefix, IReadOnlyList<Digest> candidates)
    : StorageException($"image id prefix '{prefix}' is ambiguous: it matches {string.Join(", ", candidates.Select(c => c.Short))}{(candidates.Count > 2 ? " and more" : "")}; give more digits of the id, or a name")
{
    public string Prefix { get; } = prefix;
    public IReadOnlyList<Digest> Candidates { get; } = candidates;
}
