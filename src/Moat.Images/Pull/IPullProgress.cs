using Moat.Images.Model;

namespace Moat.Images.Pull;

/// <summary>What a pull or push reports as it goes; called from several threads at once.</summary>
public interface IPullProgress
{
    /// <summary>A line of its own ("Trying to pull docker.io/library/busybox:latest...").</summary>
    void Message(string text);
    /// <summary>A blob will be transferred (or checked): <paramref name="size"/> bytes.</summary>
    void BlobStarted(Digest digest, long size);
    /// <summary>More of the blob has arrived; <paramref name="total"/> is the bytes so far (resumed bytes included).</summary>
    void BlobProgress(Digest digest, long total);
    /// <summary>The blob is done: "Already exists", "Download complete", "Pull complete", "Pushed", "Layer already exists".</summary>
    void BlobStatus(Digest digest, string status);
}

/// <summary>No progress wanted (`-q`).</summary>
public sealed class SilentProgress : IPullProgress
{
    public static readonly SilentProgress Instance = new();
    public void Message(string text) { }
    public void BlobStarted(Digest digest, long size) { }
    public void BlobProgress(Digest digest, long total) { }
    public void BlobStatus(Digest digest, string status) { }
}
