using System.CommandLine;
using System.Text.Json;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Trust.Registry;

/// <summary>`moat key generate`, `moat sign`, `moat verify` and `moat trust check`, run in-process as the CLI parses them.</summary>
[Collection(RegistryCollection.Name)]
public sealed class SignCommandTests(RegistryFixture registries) : IDisposable
{
    readonly TrustWorld world = new(registries);
    public void Dispose()
    {
        Environment.SetEnvironmentVariable("COSIGN_PASSWORD", null);
        world.Dispose();
    }

    (int Exit, string Output) Moat(params string[] arguments)
    {
        var output = new StringWriter();
        var exit = global::Moat.Cli.MoatCommandLine.Build().Parse(["--root", Path.Combine(world.Directory, "store"), .. arguments])
            .Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        return (exit, output.ToString());
    }

    [Fact]
    public void GenerateSignVerifyAndCheckFromTheCommandLine()
    {
        var (name, digest) = world.Push("cli/signed:1");
        Environment.SetEnvironmentVariable("COSIGN_PASSWORD", "cli-password");
        var prefix = Path.Combine(world.Directory, "cli");
        Assert.Equal(0, Moat("key", "generate", "--output-key-prefix", prefix).Exit);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(prefix + ".key"));
        Assert.Equal(125, Moat("key", "generate", "--output-key-prefix", prefix).Exit); // exists, no --force

        Assert.Equal(125, Moat("verify", "--tls-verify=false", "--key", prefix + ".pub", name).Exit);
        Assert.Equal(0, Moat("sign", "--tls-verify=false", "--key", prefix + ".key", "-a", "team=moat", name).Exit);
        var (exit, output) = Moat("verify", "--tls-verify=false", "--key", prefix + ".pub", "-a", "team=moat", name);
        Assert.Equal(0, exit);
        var payload = JsonDocument.Parse(output).RootElement.EnumerateArray().Single();
        Assert.Equal(digest.ToString(), payload.GetProperty("critical").GetProperty("image").GetProperty("docker-manifest-digest").GetString());
        Assert.Equal("moat", payload.GetProperty("optional").GetProperty("team").GetString());
        Assert.Equal(125, Moat("verify", "--tls-verify=false", "--key", prefix + ".pub", "-a", "team=other", name).Exit);

        Environment.SetEnvironmentVariable("COSIGN_PASSWORD", "wrong");
        Assert.Equal(125, Moat("sign", "--tls-verify=false", "--key", prefix + ".key", name).Exit);

        var policy = world.Policy("""{"default": [{"type": "sigstoreSigned", "keyPath": """ + "\"" + prefix + ".pub\"" + """, "signedIdentity": {"type": "matchRepository"}}]}""");
        var check = Moat("trust", "check", "--tls-verify=false", "--signature-policy", policy, name);
        Assert.Equal(0, check.Exit);
        Assert.Contains("accepted by " + policy + ", default", check.Output);
        Assert.Equal(125, Moat("trust", "check", "--tls-verify=false", "--signature-policy", policy, world.Push("cli/unsigned:1").Name).Exit);
        Assert.Equal(125, Moat("pull", "-q", "--tls-verify=false", "--signature-policy", policy, world.Push("cli/unsigned:2").Name).Exit);
        Assert.Equal(0, Moat("pull", "-q", "--tls-verify=false", "--signature-policy", policy, name).Exit);
    }
}
