using System.Diagnostics;
using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.Pull;
using Moat.Images.References;
using Moat.Images.Registries;
using Moat.Images.Service;
using Moat.Tests.Images.Registry;
using Moat.Trust.Cosign;
using Moat.Trust.Gpg;
using Moat.Trust.Policy;

namespace Moat.Tests.Trust.Registry;

/// <summary>
/// One test's world around the shared plain-HTTP registry: a temp directory, images pushed with skopeo, cosign
/// keys, a store to pull into, and policies written as files. Everything it makes is removed on dispose.
/// </summary>
sealed class TrustWorld(RegistryFixture registries) : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("moat-trust-").FullName;
    public RegistryServer Server => registries.Plain;
    public RegistryClient Client { get; } = new(new RegistryClientOptions { TlsVerify = false });
    public CosignOperations Cosign => new(Client, Client.Options.Registries);

    /// <summary>Pushes the busybox test image (or, <paramref name="other"/>, an image of other content) to REPOSITORY:TAG and returns its full name and manifest digest.</summary>
    public (string Name, Digest Digest) Push(string repositoryAndTag, bool other = false)
    {
        var layout = Path.Combine(Directory, "layout-" + Guid.NewGuid().ToString("N")[..8]);
        var image = other ? TestImages.BuildLargeBlobLayout(layout, "latest", 4096, seed: 77) : TestImages.BuildBusyboxLayout(layout);
        registries.Push(image.SkopeoSource, Server, repositoryAndTag);
        return ($"{Server.Host}/{repositoryAndTag}", image.ManifestDigest);
    }

    public (string Private, string Public) CosignKeyPair(string name, string password = "pw")
    {
        var pair = CosignKeys.Generate(password);
        var privatePath = Path.Combine(Directory, name + ".key");
        var publicPath = Path.Combine(Directory, name + ".pub");
        File.WriteAllText(privatePath, pair.PrivatePem);
        File.WriteAllText(publicPath, pair.PublicPem);
        return (privatePath, publicPath);
    }

    public async Task SignAsync(string image, string privateKey, string password = "pw")
    {
        using var key = CosignKeys.LoadPrivateKey(privateKey, password);
        var subject = await Cosign.ResolveAsync(image);
        await Cosign.SignAsync(subject, key, null);
    }

    public string Policy(string json)
    {
        var path = Path.Combine(Directory, $"policy-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>`moat pull` through the image service with the policy as its verification hook; returns the store's images afterwards.</summary>
    public async Task<int> PullAsync(string image, string policyPath, string? registriesDirectory = null)
    {
        using var service = new ImageService(new ImageServiceOptions { Root = Path.Combine(Directory, "store"), TlsVerify = false });
        var trust = ImageTrust.Load(service.Registry, policyPath, registriesDirectory ?? Path.Combine(Directory, "no-registries.d"));
        await service.PullAsync(image, null, SilentProgress.Instance, default, trust.CheckPullAsync);
        return service.List().Count;
    }

    public int StoredImages()
    {
        using var service = new ImageService(new ImageServiceOptions { Root = Path.Combine(Directory, "store"), TlsVerify = false });
        return service.List().Count;
    }

    /// <summary>Runs a tool with extra environment variables (GNUPGHOME for gpg and skopeo).</summary>
    public static string Run(IReadOnlyDictionary<string, string> environment, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}{stdout}");
        return stdout;
    }

    public void Dispose()
    {
        Client.Dispose();
        // Snapshots hold root-owned files with odd modes: rm -rf is the reliable way.
        Tool.Run("rm", "-rf", Directory);
    }
}
