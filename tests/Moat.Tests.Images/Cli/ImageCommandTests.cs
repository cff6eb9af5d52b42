using System.Text.Json;
using Moat.Images.Model;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Cli;

/// <summary>
/// `moat` image commands end to end: the real binary against the real registries of <see cref="RegistryFixture"/>,
/// with skopeo and umoci as the other side. Each test has a store of its own.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class ImageCommandTests(RegistryFixture registries) : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("moat-cli-").FullName;
    MoatProcess? moat;
    MoatProcess Moat => moat ??= new MoatProcess(Path.Combine(directory, "store"));

    public void Dispose()
    {
        // Snapshots hold root-owned files with odd modes: rm -rf is the reliable way.
        Tool.Run("rm", "-rf", directory);
    }

    TestImage PushBusybox(RegistryServer server, string repositoryAndTag)
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(directory, "layout-" + Guid.NewGuid().ToString("N")[..8]));
        registries.Push(image.SkopeoSource, server, repositoryAndTag);
        return image;
    }

    [Fact]
    public void PullByTagStoresUnpacksAndListsTheImage()
    {
        var image = PushBusybox(registries.Plain, "cli/busybox:1");
        var id = Moat.Ok("pull", "-q", "--tls-verify=false", $"{registries.Plain.Host}/cli/busybox:1").Trim();
        Assert.Equal(image.ConfigDigest.Hex, id);

        var table = Moat.Ok("images");
        Assert.Contains($"{registries.Plain.Host}/cli/busybox", table);
        Assert.Contains(image.ConfigDigest.Short, table);

        var json = JsonDocument.Parse(Moat.Ok("image", "inspect", $"{registries.Plain.Host}/cli/busybox:1")).RootElement[0];
        Assert.Equal(image.ManifestDigest.ToString(), json.GetProperty("Digest").GetString());
        Assert.Equal("amd64", json.GetProperty("Architecture").GetString());
        Assert.Single(json.GetProperty("RootFS").GetProperty("Layers").EnumerateArray());

        // The layer is unpacked once, into a snapshot holding the real busybox.
        var snapshots = Directory.GetDirectories(Path.Combine(Moat.Root, "snapshots")).Where(d => !Path.GetFileName(d).StartsWith('.')).ToList();
        Assert.Single(snapshots);
        Assert.True(File.Exists(Path.Combine(snapshots[0], "diff", "bin", "busybox")));
    }

    [Fact]
    public void ASecondPullFindsEverythingThereAndAPullByDigestNamesNoTag()
    {
        var image = PushBusybox(registries.Plain, "cli/again:latest");
        Moat.Ok("pull", "--tls-verify=false", $"{registries.Plain.Host}/cli/again");
        var second = Moat.Run("pull", "--tls-verify=false", $"{registries.Plain.Host}/cli/again");
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("Already exists", second.Stderr);

        var byDigest = new MoatProcess(Path.Combine(directory, "digest-store"));
        Assert.Equal(image.ConfigDigest.Hex, byDigest.Ok("pull", "-q", "--tls-verify=false", $"{registries.Plain.Host}/cli/again@{image.ManifestDigest}").Trim());
        var listed = JsonDocument.Parse(byDigest.Ok("images", "-a", "--format", "json")).RootElement[0];
        Assert.Empty(listed.GetProperty("RepoTags").EnumerateArray());
        Assert.Equal($"{registries.Plain.Host}/cli/again@{image.ManifestDigest}", listed.GetProperty("RepoDigests")[0].GetString());
    }

    [Fact]
    public void TlsWithBasicAuthNeedsTheRightCredentialsAndLoginKeepsThem()
    {
        PushBusybox(registries.Tls, "cli/tls:1");
        var reference = $"{registries.Tls.Host}/cli/tls:1";
        var certs = $"--cert-dir={registries.TlsCertDirectory}";

        var anonymous = Moat.Run("pull", certs, reference);
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("Error:", anonymous.Stderr);
        Assert.Contains("moat login", anonymous.Stderr);

        var wrong = Moat.RunWithInput("wrong-password\n", "login", certs, "-u", RegistryFixture.Username, "--password-stdin", registries.Tls.Host);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.False(File.Exists(Moat.AuthFile), "a failed login must not store the credentials");

        var login = Moat.RunWithInput(RegistryFixture.Password + "\n", "login", certs, "-u", RegistryFixture.Username, "--password-stdin", registries.Tls.Host);
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains("Login Succeeded", login.Stdout);
        var auth = JsonDocument.Parse(File.ReadAllText(Moat.AuthFile)).RootElement.GetProperty("auths").GetProperty(registries.Tls.Host);
        Assert.Equal(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryFixture.Username}:{RegistryFixture.Password}")), auth.GetProperty("auth").GetString());
        Assert.Equal(Convert.ToInt32("600", 8), (int)File.GetUnixFileMode(Moat.AuthFile));

        Moat.Ok("pull", "-q", certs, reference);
        Assert.Contains("Removed login credentials", Moat.Ok("logout", registries.Tls.Host));
        Assert.NotEqual(0, Moat.Run("pull", certs, reference).ExitCode);
    }

    [Fact]
    public void TheTokenRegistryIsReachedWithCredentialsFromTheCommandLine()
    {
        var image = PushBusybox(registries.Token, "cli/token:1");
        var id = Moat.Ok("pull", "-q", "--tls-verify=false", "--creds", $"{RegistryFixture.Username}:{RegistryFixture.Password}", $"{registries.Token.Host}/cli/token:1").Trim();
        Assert.Equal(image.ConfigDigest.Hex, id);
    }

    [Fact]
    public void LoginToATokenRegistryChecksTheCredentialsWithTheTokenService()
    {
        var image = PushBusybox(registries.Token, "cli/token-login:1");
        var wrong = Moat.RunWithInput("not-the-password\n", "login", "--tls-verify=false", "-u", RegistryFixture.Username, "--password-stdin", registries.Token.Host);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains(registries.Token.Host, wrong.Stderr);
        Assert.False(File.Exists(Moat.AuthFile));

        var login = Moat.RunWithInput(RegistryFixture.Password + "\n", "login", "--tls-verify=false", "-u", RegistryFixture.Username, "--password-stdin", registries.Token.Host);
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Equal(image.ConfigDigest.Hex, Moat.Ok("pull", "-q", "--tls-verify=false", $"{registries.Token.Host}/cli/token-login:1").Trim());
    }

    [Fact]
    public void PushedImagesKeepTheirDigestAndSkopeoReadsThem()
    {
        var image = PushBusybox(registries.Plain, "cli/source:1");
        Moat.Ok("pull", "-q", "--tls-verify=false", $"{registries.Plain.Host}/cli/source:1");
        var target = $"{registries.Plain.Host}/cli/pushed:2";
        Moat.Ok("tag", $"{registries.Plain.Host}/cli/source:1", target);
        Moat.Ok("push", "--tls-verify=false", target);
        var raw = registries.InspectRaw(registries.Plain, "cli/pushed:2");
        Assert.Equal(image.ManifestDigest, Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(raw)));

        // And to the TLS registry, with credentials, under another name.
        Moat.Ok("push", $"--cert-dir={registries.TlsCertDirectory}", "--creds", $"{RegistryFixture.Username}:{RegistryFixture.Password}",
            target, $"{registries.Tls.Host}/cli/pushed:3");
        Assert.Equal(image.ManifestDigest, Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(registries.InspectRaw(registries.Tls, "cli/pushed:3"))));
    }

    [Fact]
    public void SaveAndLoadRoundTripInBothArchiveFormats()
    {
        var image = PushBusybox(registries.Plain, "cli/saved:1");
        var name = $"{registries.Plain.Host}/cli/saved:1";
        Moat.Ok("pull", "-q", "--tls-verify=false", name);
        var docker = Path.Combine(directory, "docker.tar");
        var oci = Path.Combine(directory, "oci.tar");
        Moat.Ok("save", "-o", docker, name);
        Moat.Ok("save", "--format", "oci-archive", "-o", oci, name);
        Assert.Contains(image.ConfigDigest.Hex, Tool.Run("skopeo", "inspect", "--raw", $"docker-archive:{docker}"), StringComparison.Ordinal);
        Assert.Contains(image.ManifestDigest.ToString(), Tool.Run("skopeo", "inspect", $"oci-archive:{oci}"), StringComparison.Ordinal);

        foreach (var archive in new[] { docker, oci })
        {
            var fresh = new MoatProcess(Path.Combine(directory, "load-" + Path.GetFileNameWithoutExtension(archive)));
            var loaded = fresh.Ok("load", "-i", archive);
            Assert.Contains("Loaded image", loaded);
            Assert.Equal(image.ConfigDigest.Hex, fresh.Ok("images", "-q", "--no-trunc").Trim().Replace("sha256:", ""));
            Assert.Contains("bin/busybox", string.Join('\n', Directory.EnumerateFiles(Path.Combine(fresh.Root, "snapshots"), "busybox", SearchOption.AllDirectories)));
        }
    }

    [Fact]
    public void ImportMakesAOneLayerImageUnderLocalhost()
    {
        var rootfs = Path.Combine(directory, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy(TestImages.BusyboxPath, Path.Combine(rootfs, "bin", "busybox"));
        var tarball = Path.Combine(directory, "rootfs.tar.gz");
        Tool.Run("tar", "-czf", tarball, "-C", rootfs, ".");
        var id = Moat.Ok("import", "-q", "--change", "CMD [\"/bin/busybox\", \"sh\"]", tarball, "imported:v1").Trim();
        var json = JsonDocument.Parse(Moat.Ok("image", "inspect", "imported:v1")).RootElement[0];
        Assert.Equal(id, json.GetProperty("Id").GetString());
        Assert.Equal("localhost/imported:v1", json.GetProperty("RepoTags")[0].GetString());
        Assert.Equal("sh", json.GetProperty("Config").GetProperty("Cmd")[1].GetString());
    }

    [Fact]
    public void RmiUntagsOneOfSeveralNamesThenDeletesAndPruneFreesTheRest()
    {
        var image = PushBusybox(registries.Plain, "cli/rmi:1");
        var name = $"{registries.Plain.Host}/cli/rmi:1";
        Moat.Ok("pull", "-q", "--tls-verify=false", name);
        Moat.Ok("tag", name, "other:tag");

        var byId = Moat.Run("rmi", image.ConfigDigest.Short);
        Assert.NotEqual(0, byId.ExitCode);
        Assert.Contains("several names", byId.Stderr);

        Assert.Equal("Untagged: localhost/other:tag\n", Moat.Ok("rmi", "other:tag"));
        var removed = Moat.Ok("rmi", name);
        Assert.Contains($"Deleted: {image.ConfigDigest}", removed);
        Assert.Empty(Moat.Ok("images", "-q", "-a").Trim());
        // Nothing of the image is left: blobs and snapshots went with it.
        Assert.Empty(Directory.GetFiles(Path.Combine(Moat.Root, "images", "blobs", "sha256")));
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(Moat.Root, "snapshots")), d => !Path.GetFileName(d).StartsWith('.'));
        Assert.Contains("Total reclaimed space", Moat.Ok("image", "prune", "-f"));
        Assert.Contains("Images", Moat.Ok("system", "df"));
    }

    [Fact]
    public void BadInputGetsOneClearSentence()
    {
        var missing = Moat.Run("image", "inspect", "no-such-image");
        Assert.Equal(125, missing.ExitCode);
        Assert.StartsWith("Error: image 'no-such-image' is not in the local store", missing.Stderr);

        var malformed = Moat.Run("pull", "UPPER/Case::x");
        Assert.Equal(125, malformed.ExitCode);
        Assert.StartsWith("Error:", malformed.Stderr);
        Assert.DoesNotContain("Exception", malformed.Stderr);

        using var broken = new FakeHttpServer(_ => FakeResponse.Text(500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk on fire\"}]}", "application/json"));
        var failed = Moat.Run("pull", "--tls-verify=false", $"{broken.Host}/x/y:1");
        Assert.Equal(125, failed.ExitCode);
        Assert.Contains("disk on fire", failed.Stderr);
        Assert.Contains(broken.Host, failed.Stderr);

        using var garbage = new FakeHttpServer(_ => FakeResponse.Text(200, "<html>not a registry</html>", "text/html"));
        var nonsense = Moat.Run("pull", "--tls-verify=false", $"{garbage.Host}/x/y:1");
        Assert.Equal(125, nonsense.ExitCode);
        Assert.Contains(garbage.Host, nonsense.Stderr);
        Assert.Empty(Moat.Ok("images", "-q", "-a").Trim());
    }

    [Fact]
    public async Task ConcurrentPullsOfOneImageShareTheDownload()
    {
        var image = PushBusybox(registries.Plain, "cli/concurrent:1");
        var reference = $"{registries.Plain.Host}/cli/concurrent:1";
        var pulls = Enumerable.Range(0, 3).Select(_ => Task.Run(() => Moat.Run("pull", "-q", "--tls-verify=false", reference))).ToArray();
        var results = await Task.WhenAll(pulls);
        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.All(results, r => Assert.Equal(image.ConfigDigest.Hex, r.Stdout.Trim()));
        var blobs = Directory.GetFiles(Path.Combine(Moat.Root, "images", "blobs", "sha256"));
        Assert.Equal(3, blobs.Length); // manifest, config, one layer: each stored once
        Assert.Empty(Directory.GetFiles(Path.Combine(Moat.Root, "images", "ingest"), "*.partial"));
    }

    /// <summary>A partial's length; one committed (renamed into blobs/) between the listing and the look counts 0.</summary>
    static long PartialLength(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : 0;
    }

    [Fact]
    public void APullKilledMidLayerLeavesNothingVisibleAndTheNextPullResumesIt()
    {
        // Big enough that the download is still going when the test sees its first bytes on disk.
        var image = TestImages.BuildLargeLayerLayout(Path.Combine(directory, "large"), "large", 192 << 20);
        registries.Push(image.SkopeoSource, registries.Plain, "cli/large:1");
        var reference = $"{registries.Plain.Host}/cli/large:1";
        var ingest = Path.Combine(Moat.Root, "images", "ingest");

        using (var pull = Moat.Start("pull", "-q", "--tls-verify=false", reference))
        {
            long seen = 0;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (seen < (4 << 20) && !pull.HasExited && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(2);
                seen = Directory.Exists(ingest) ? Directory.GetFiles(ingest, "*.partial").Sum(PartialLength) : 0;
            }
            Assert.False(pull.HasExited, "the pull finished before it could be interrupted; the layer must be larger on this machine");
            pull.Kill();
            pull.WaitForExit();
        }
        var partial = Directory.GetFiles(ingest, "*.partial").Sum(f => new FileInfo(f).Length);
        Assert.True(partial > 0, "the killed pull left no partial download to resume");
        Assert.Equal("", Moat.Ok("images", "-q", "-a"));
        Assert.False(File.Exists(Path.Combine(Moat.Root, "images", "blobs", "sha256", image.Layers[0].ParsedDigest.Hex)));

        Assert.Equal(image.ConfigDigest.Hex, Moat.Ok("pull", "-q", "--tls-verify=false", reference).Trim());
        Assert.Empty(Directory.GetFiles(ingest, "*.partial"));
        Assert.Equal(image.Layers[0].Size, new FileInfo(Path.Combine(Moat.Root, "images", "blobs", "sha256", image.Layers[0].ParsedDigest.Hex)).Length);
        var unpacked = Directory.GetFiles(Path.Combine(Moat.Root, "snapshots"), "large.bin", SearchOption.AllDirectories);
        Assert.Equal(192L << 20, new FileInfo(Assert.Single(unpacked)).Length);
    }
}
