namespace Moat.Images.Distribution;

/// <summary>How a blob download went: already in the store (another pull had it), or fetched, resumed from an offset, in so many attempts.</summary>
public sealed record BlobFetch(bool AlreadyPresent, long ResumedFrom, int Attempts, long BytesTransferred);
