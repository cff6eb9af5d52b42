using Moat.Images.References;
using Moat.Images.Registries;

namespace Moat.Tests.Images.Distribution;

public class RegistriesConfigTests
{
    const string Sample = """
        # podman's registries.conf, version 2
        unqualified-search-registries = ["registry.example", 'quay.io',
            "docker.io",   # trailing comma is fine
        ]

        [[registry]]
        prefix = "docker.io"
        location = "docker.io"
          [[registry.mirror]]
          location = "mirror.local:5000/hub"
          insecure = true
          [[registry.mirror]]
          location = "digests.local/hub"
          pull-from-mirror = "digest-only"

        [[registry]]
        location = "insecure.local:5000"
        insecure = true

        [[registry]]
        prefix = "example.com/team"
        location = "internal.example/team-copy"

        [[registry]]
        prefix = "example.com/team/secret"
        blocked = true

        [[registry]]
        prefix = "*.corp.example"
        insecure = true

        [aliases]
        "fedora" = "registry.fedoraproject.org/fedora"
        """;

    static RegistriesConfig Config() => RegistriesConfig.Parse(Sample, "/etc/containers/registries.conf");

    [Fact]
    public void ReadsSearchRegistriesEntriesMirrorsAndAliases()
    {
        var config = Config();
        Assert.Equal(["registry.example", "quay.io", "docker.io"], config.UnqualifiedSearchRegistries);
        Assert.Equal(5, config.Registries.Count);
        var hub = config.Registries[0];
        Assert.Equal("docker.io", hub.Prefix);
        Assert.Equal(2, hub.Mirrors.Count);
        Assert.True(hub.Mirrors[0].Insecure);
        Assert.Equal(MirrorUse.DigestOnly, hub.Mirrors[1].Use);
        Assert.Equal("insecure.local:5000", config.Registries[1].Prefix);
        Assert.Equal("registry.fedoraproject.org/fedora", config.Aliases["fedora"]);
        Assert.Contains("line 6", hub.Origin);
    }

    [Fact]
    public void MirrorsComeFirstAndDigestOnlyMirrorsServeOnlyDigests()
    {
        var config = Config();
        var byTag = config.PullSources(ImageReference.Parse("docker.io/library/busybox:1"));
        Assert.Equal(["mirror.local:5000/hub/library/busybox", "docker.io/library/busybox"], byTag.Select(s => s.ToString()));
        Assert.True(byTag[0].IsMirror && byTag[0].Insecure);
        Assert.False(byTag[1].IsMirror || byTag[1].Insecure);

        var byDigest = config.PullSources(ImageReference.Parse("docker.io/library/busybox@sha256:" + new string('a', 64)));
        Assert.Equal(["mirror.local:5000/hub/library/busybox", "digests.local/hub/library/busybox", "docker.io/library/busybox"], byDigest.Select(s => s.ToString()));
        Assert.Equal("docker.io/library/busybox", config.PushTarget(ImageReference.Parse("busybox").InRegistry("docker.io")).ToString());
    }

    [Fact]
    public void PrefixesRewriteTheLongestMatchAndBlockedOnesRefuse()
    {
        var config = Config();
        var source = Assert.Single(config.PullSources(ImageReference.Parse("example.com/team/app:1")));
        Assert.Equal("internal.example", source.Registry);
        Assert.Equal("team-copy/app", source.Repository);
        // "example.com/teamwork" is not under the prefix "example.com/team".
        Assert.Equal("example.com/teamwork", Assert.Single(config.PullSources(ImageReference.Parse("example.com/teamwork"))).ToString());
        var blocked = Assert.Throws<RegistriesConfigException>(() => config.PullSources(ImageReference.Parse("example.com/team/secret/x")));
        Assert.Contains("blocked", blocked.Message);
        Assert.Contains("/etc/containers/registries.conf line", blocked.Message);
        Assert.Throws<RegistriesConfigException>(() => config.PushTarget(ImageReference.Parse("example.com/team/secret/x")));
    }

    [Fact]
    public void InsecureRegistriesAndWildcards()
    {
        var config = Config();
        Assert.True(Assert.Single(config.PullSources(ImageReference.Parse("insecure.local:5000/a"))).Insecure);
        Assert.True(Assert.Single(config.PullSources(ImageReference.Parse("build.corp.example/a"))).Insecure);
        Assert.False(Assert.Single(config.PullSources(ImageReference.Parse("quay.io/a/b"))).Insecure);
        Assert.True(config.IsInsecure("insecure.local:5000"));
        Assert.True(config.IsInsecure("mirror.local:5000"));
        Assert.True(config.IsInsecure("x.corp.example"));
        Assert.False(config.IsInsecure("quay.io"));
    }

    [Fact]
    public void ShortNamesExpandOverSearchRegistriesOrTheirAlias()
    {
        var config = Config();
        Assert.Equal(["registry.example/busybox:latest", "quay.io/busybox:latest", "docker.io/library/busybox:latest"],
            config.ExpandShortName(ImageReference.Parse("busybox")).Select(r => r.FullName));
        Assert.Equal(["registry.fedoraproject.org/fedora:39"], config.ExpandShortName(ImageReference.Parse("fedora:39")).Select(r => r.FullName));
        Assert.Equal(["quay.io/a:1"], config.ExpandShortName(ImageReference.Parse("quay.io/a:1")).Select(r => r.FullName));
    }

    [Fact]
    public void ShortNameWithoutSearchRegistriesNamesTheFile()
    {
        var config = RegistriesConfig.Parse("# nothing\n", "/tmp/my-registries.conf");
        var error = Assert.Throws<RegistriesConfigException>(() => config.ExpandShortName(ImageReference.Parse("busybox")));
        Assert.Contains("/tmp/my-registries.conf", error.Message);
        Assert.Contains("unqualified-search-registries", error.Message);
        Assert.Contains("docker.io/library/busybox:latest", error.Message);
    }

    [Theory]
    [InlineData("unqualified-search-registries = [\"a\"", "line 1", "expected ',' or ']'")]
    [InlineData("x = 1\n\n[[registry]]\nprefix = \"a.io\"\nlocation = 5", "line 5", "'location' must be a string, not an integer")]
    [InlineData("[[registry]]\ninsecure = \"yes\"\nprefix=\"a.io\"", "line 2", "must be true or false")]
    [InlineData("[[registry]]\nprefix = \"a.io\" junk", "line 2", "unexpected 'j'")]
    [InlineData("\n\nkey value", "line 3", "expected '=' after the key 'key'")]
    [InlineData("a = \"unclosed\n", "line 1", "not closed")]
    [InlineData("[[registry.mirror]]\nlocation=\"m.io\"", "line 1", "comes before any [[registry]]")]
    [InlineData("[[registry]]\nlocation = \"https://a.io\"", "line 1", "not host[:port][/path]")]
    [InlineData("[[registry]]\ninsecure = true", "line 1", "needs a prefix or a location")]
    [InlineData("[[registry]]\nprefix = \"*.a.io\"\nlocation = \"b.io\"", "line 1", "wildcard")]
    [InlineData("unqualified-search-registries = [\"not a host\"]", "line 1", "not a registry host")]
    [InlineData("a = 1\na = 2", "line 2", "defined twice")]
    [InlineData("[registries.search]\nregistries = ['docker.io']", "", "version 1 format")]
    [InlineData("[aliases]\n\"x\" = \"x\"", "line 2", "fully qualified")]
    [InlineData("a = \"\\q\"", "line 1", "not a valid escape")]
    [InlineData("a.b = 1", "line 1", "dotted keys")]
    [InlineData("[[registry]]\nlocation = 'a.io'\n[[registry]]\nprefix = 'a.io'", "line 3", "two [[registry]] tables")]
    public void ErrorsNameTheFileAndLine(string text, string line, string why)
    {
        var error = Assert.Throws<RegistriesConfigException>(() => RegistriesConfig.Parse(text, "test.conf"));
        Assert.StartsWith("test.conf", error.Message);
        Assert.Contains(line, error.Message);
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void TomlDetailsThatRegistriesConfFilesUse()
    {
        var config = RegistriesConfig.Parse("""
            short-name-mode = "enforcing"   # unknown keys are left alone
            unqualified-search-registries = []
            [[registry]]
            prefix = 'lit.example\path'
            location = "esc.example"
            credential-helpers = ["x"]
            """.Replace("\\path", ""), "t.conf");
        Assert.Empty(config.UnqualifiedSearchRegistries);
        Assert.Equal("lit.example", config.Registries[0].Prefix);
        Assert.Equal("esc.example", config.Registries[0].Location);
    }

    [Fact]
    public void LoadMergesDropInsAfterTheMainFile()
    {
        var directory = Directory.CreateTempSubdirectory("moat-regconf-");
        try
        {
            var main = Path.Combine(directory.FullName, "registries.conf");
            File.WriteAllText(main, "unqualified-search-registries = ['a.io']\n[[registry]]\nlocation = 'b.io'\ninsecure = true\n");
            Directory.CreateDirectory(main + ".d");
            File.WriteAllText(Path.Combine(main + ".d", "50-more.conf"), "[[registry]]\nlocation = 'b.io'\n[[registry]]\nlocation = 'c.io'\ninsecure = true\n");
            File.WriteAllText(Path.Combine(main + ".d", "90-search.conf"), "unqualified-search-registries = ['z.io']\n");
            var config = RegistriesConfig.Load(main);
            Assert.Equal(["z.io"], config.UnqualifiedSearchRegistries);
            Assert.False(config.IsInsecure("b.io")); // the drop-in's entry replaced the main file's
            Assert.True(config.IsInsecure("c.io"));
            Assert.Equal(3, config.Files.Count);
            Assert.Contains("does not exist", Assert.Throws<RegistriesConfigException>(() => RegistriesConfig.Load(main + ".missing")).Message);
        }
        finally { directory.Delete(recursive: true); }
    }

    [Fact]
    public void TheSystemFileOfThisMachineParses()
    {
        if (!File.Exists(RegistriesConfig.SystemPath)) return;
        var config = RegistriesConfig.Load(RegistriesConfig.SystemPath);
        Assert.Contains(RegistriesConfig.SystemPath, config.Files);
    }
}
