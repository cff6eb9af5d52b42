using System.Text;
using System.Text.Json.Nodes;
using Moat.Images.Auth;

namespace Moat.Tests.Images.Distribution;

public sealed class CredentialStoreTests : IDisposable
{
    readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("moat-auth-");
    public void Dispose() => directory.Delete(recursive: true);

    string PathOf(string name) => Path.Combine(directory.FullName, name);

    static string Auth(string user, string pass) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{pass}"));

    [Fact]
    public void SaveFindRemoveRoundTripKeepsUnknownKeys()
    {
        var primary = PathOf("run/containers/auth.json");
        Directory.CreateDirectory(Path.GetDirectoryName(primary)!);
        File.WriteAllText(primary, $$$"""
            {
              "auths": {
                "quay.io": { "auth": "{{{Auth("q", "pw")}}}", "email": "kept@example" },
                "other.io": { "auth": "{{{Auth("o", "p:with:colons")}}}" }
              },
              "credHelpers": { "gcr.io": "gcloud" },
              "HttpHeaders": { "User-Agent": "x" }
            }
            """);
        var store = new CredentialStore(primary, [primary]);
        store.Save("localhost:5000", new RegistryCredential("alice", "s3cret"));
        store.Save("quay.io", new RegistryCredential("q2", "pw2"));

        Assert.Equal(new RegistryCredential("alice", "s3cret"), store.Find("localhost:5000"));
        Assert.Equal(new RegistryCredential("q2", "pw2"), store.Find("quay.io", "a/b"));
        Assert.Equal(new RegistryCredential("o", "p:with:colons"), store.Find("other.io"));
        Assert.Null(store.Find("nowhere.io"));

        var document = JsonNode.Parse(File.ReadAllText(primary))!;
        Assert.Equal("gcloud", (string?)document["credHelpers"]!["gcr.io"]);
        Assert.Equal("x", (string?)document["HttpHeaders"]!["User-Agent"]);
        Assert.Equal("kept@example", (string?)document["auths"]!["quay.io"]!["email"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(primary));

        Assert.True(store.Remove("localhost:5000"));
        Assert.False(store.Remove("localhost:5000"));
        Assert.Null(store.Find("localhost:5000"));
        Assert.Equal("gcloud", (string?)JsonNode.Parse(File.ReadAllText(primary))!["credHelpers"]!["gcr.io"]);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(primary)!, "*.tmp"));
    }

    [Fact]
    public void SaveCreatesTheFileAndItsDirectory()
    {
        var primary = PathOf("new/dir/auth.json");
        var store = new CredentialStore(primary, [primary]);
        store.Save("r.io", new RegistryCredential("u", "p"));
        Assert.Equal(Auth("u", "p"), (string?)JsonNode.Parse(File.ReadAllText(primary))!["auths"]!["r.io"]!["auth"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(PathOf("new/dir")));
        store.RemoveAll();
        Assert.Null(store.Find("r.io"));
    }

    [Fact]
    public void ReadsDockerConfigAfterThePrimaryFileAndNormalisesItsKeys()
    {
        var primary = PathOf("auth.json");
        var docker = PathOf("config.json");
        File.WriteAllText(primary, $$$"""{"auths":{"a.io":{"auth":"{{{Auth("podman", "1")}}}"} } }""");
        File.WriteAllText(docker, $$$"""
            {"auths":{"https://index.docker.io/v1/":{"auth":"{{{Auth("hub", "2")}}}"},
                      "a.io":{"auth":"{{{Auth("docker", "3")}}}"},
                      "http://b.io:5000":{"auth":"{{{Auth("b", "4")}}}"},
                      "c.io":{}},
             "credsStore":"desktop"}
            """);
        var store = new CredentialStore(primary, [primary, docker]);
        Assert.Equal("podman", store.Find("a.io")!.Username);
        Assert.Equal("hub", store.Find("docker.io", "library/busybox")!.Username);
        Assert.Equal("b", store.Find("b.io:5000")!.Username);
        Assert.Null(store.Find("c.io"));
    }

    [Fact]
    public void NamespaceEntriesWinOverTheRegistryEntry()
    {
        var primary = PathOf("auth.json");
        File.WriteAllText(primary, $$$"""{"auths":{"r.io":{"auth":"{{{Auth("all", "1")}}}"},"r.io/team":{"auth":"{{{Auth("team", "2")}}}"},"r.io/team/app":{"auth":"{{{Auth("app", "3")}}}"} } }""");
        var store = new CredentialStore(primary, [primary]);
        Assert.Equal("app", store.Find("r.io", "team/app")!.Username);
        Assert.Equal("team", store.Find("r.io", "team/other")!.Username);
        Assert.Equal("all", store.Find("r.io", "solo")!.Username);
        Assert.Equal("all", store.Find("r.io")!.Username);
    }

    [Fact]
    public void BrokenFilesGiveSentencesNamingThem()
    {
        var primary = PathOf("auth.json");
        File.WriteAllText(primary, "{not json");
        var store = new CredentialStore(primary, [primary]);
        Assert.Contains(primary, Assert.Throws<CredentialStoreException>(() => store.Find("r.io")).Message);
        File.WriteAllText(primary, """{"auths":{"r.io":{"auth":"!!!"}}}""");
        Assert.Contains("not base64", Assert.Throws<CredentialStoreException>(() => store.Find("r.io")).Message);
        File.WriteAllText(primary, "[]");
        Assert.Contains("not an auth file", Assert.Throws<CredentialStoreException>(() => store.Find("r.io")).Message);
    }

    [Fact]
    public void PathsFollowPodman()
    {
        Assert.Equal("/x/auth.json", AuthFilePaths.Primary("/x/auth.json"));
        Assert.Equal(["/x/auth.json"], AuthFilePaths.ReadOrder("/x/auth.json"));
        if (Moat.Interop.Libc.geteuid() == 0 && Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is null)
        {
            Assert.Equal("/run/containers/0/auth.json", AuthFilePaths.Primary());
            Assert.Contains(AuthFilePaths.ReadOrder(), p => p.EndsWith(".docker/config.json", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TheStoreIsTheClientsCredentialSource()
    {
        var primary = PathOf("auth.json");
        var store = new CredentialStore(primary, [primary]);
        store.Save("r.io", new RegistryCredential("u", "p"));
        var options = new Moat.Images.Distribution.RegistryClientOptions { Credentials = store.Find };
        Assert.Equal("u", options.Credentials!("r.io", "team/app")!.Username);
    }

    [Fact]
    public void CredentialsNeverPrintThePassword() =>
        Assert.DoesNotContain("s3cret", new RegistryCredential("u", "s3cret").ToString());
}
