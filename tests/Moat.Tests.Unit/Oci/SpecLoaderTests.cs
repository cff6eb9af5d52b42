using System.Text;
using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public class SpecLoaderTests
{
    private const string Minimal = """{"ociVersion":"1.2.0","root":{"path":"rootfs"}}""";

    [Fact]
    public void LoadReadsConfigJsonFromTheBundle()
    {
        using var bundle = new TempBundle();
        bundle.WriteConfig(SampleConfigs.Full);

        var spec = SpecLoader.Load(bundle.Directory);

        Assert.Equal("slartibartfast", spec.Hostname);
    }

    [Fact]
    public void LoadReportsAMissingConfigJson()
    {
        using var bundle = new TempBundle();

        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(bundle.Directory));

        Assert.Equal($"bundle {bundle.Directory}: config.json not found", error.Message);
    }

    [Fact]
    public void LoadReportsAMissingBundleDirectory()
    {
        var missing = Path.Combine(Path.GetTempPath(), "moat-no-such-bundle-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(missing));

        Assert.Equal($"bundle {missing}: no such directory", error.Message);
    }

    [Fact]
    public void ParseAcceptsAMinimalDocument()
    {
        var spec = SpecLoader.Parse(Minimal);

        Assert.Equal("1.2.0", spec.OciVersion);
        Assert.Equal("rootfs", spec.Root!.Path);
        Assert.Null(spec.Process);
        Assert.Null(spec.Linux);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    public void ParseRejectsAnEmptyDocument(string json)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(json));

        Assert.Equal("config.json: file is empty", error.Message);
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"spec\"", "a string")]
    [InlineData("42", "a number")]
    [InlineData("null", "null")]
    public void ParseRejectsATopLevelThatIsNotAnObject(string json, string found)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(json));

        Assert.Equal($"config.json: expected a JSON object at the top level, found {found}", error.Message);
    }

    [Fact]
    public void ParseNamesThePathAndLineOfAValueOfTheWrongType()
    {
        const string json = """
            {
              "ociVersion": "1.2.0",
              "linux": {
                "namespaces": [
                  { "type": 5 }
                ]
              }
            }
            """;

        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(json));

        Assert.Equal("config.json: invalid value at $.linux.namespaces[0].type (line 5): expected a string", error.Message);
    }

    [Fact]
    public void ParseRejectsANegativeNumberForAnUnsignedField()
    {
        const string json = """
            {
              "ociVersion": "1.2.0",
              "process": {
                "cwd": "/",
                "user": { "uid": -1, "gid": 0 }
              }
            }
            """;

        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(json));

        Assert.Equal("config.json: invalid value at $.process.user.uid (line 5): expected a 32-bit unsigned integer", error.Message);
    }

    [Fact]
    public void ParseRejectsNullForARequiredString()
    {
        const string json = """
            {
              "ociVersion": "1.2.0",
              "process": { "cwd": null }
            }
            """;

        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(json));

        Assert.Equal("config.json: invalid value at $.process.cwd (line 3): null is not allowed here", error.Message);
    }

    [Fact]
    public void ParseAcceptsNullForAnOptionalField()
    {
        var spec = SpecLoader.Parse("""{"ociVersion":"1.2.0","hostname":null,"linux":{"resources":{"memory":{"limit":null}}}}""");

        Assert.Null(spec.Hostname);
        Assert.Null(spec.Linux!.Resources!.Memory!.Limit);
    }

    [Fact]
    public void ParseReportsSyntaxErrorsWithPathAndLine()
    {
        const string json = """
            {
              "ociVersion": "1.2.0",
              "process": {
                "cwd": "/",
              }
            }
            """;

        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(json));

        Assert.Equal("config.json: invalid JSON at $.process (line 5): trailing commas are not allowed", error.Message);
    }

    [Fact]
    public void ParseReportsGarbageBeforeTheFirstValue()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse("\n\nociVersion: 1.2.0"));

        Assert.Equal("config.json: invalid JSON at $ (line 3): 'o' is an invalid start of a value.", error.Message);
    }

    [Fact]
    public void ParseRejectsComments()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse("{\n// comment\n\"ociVersion\": \"1.2.0\"}"));

        Assert.StartsWith("config.json: invalid JSON", error.Message);
        Assert.Contains("(line 2)", error.Message);
    }

    [Fact]
    public void ParseRejectsTruncatedDocuments()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse("{\"ociVersion\": \"1.2.0\", \"root\": {"));

        Assert.Equal("config.json: invalid JSON at $.root (line 1): unexpected end of data: an object or array is not closed", error.Message);
    }

    [Fact]
    public void ParseIgnoresUnknownProperties()
    {
        var spec = SpecLoader.Parse("""{"ociVersion":"1.2.0","vm":{"kernel":{"path":"/k"}},"root":{"path":"r","future":[1,2]}}""");

        Assert.Equal("r", spec.Root!.Path);
    }

    [Fact]
    public void ParseAcceptsAUtf8ByteOrderMark()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Minimal)).ToArray();

        var spec = SpecLoader.Parse(bytes);

        Assert.Equal("1.2.0", spec.OciVersion);
    }

    [Fact]
    public void ParseUsesTheGivenSourceNameInErrors()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse("[]"u8, "/b/config.json"));

        Assert.StartsWith("/b/config.json: ", error.Message);
    }

    [Fact]
    public void LoadPrefixesParseErrorsWithTheFileName()
    {
        using var bundle = new TempBundle();
        bundle.WriteConfig("{\"ociVersion\": true}");

        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(bundle.Directory));

        Assert.Equal("config.json: invalid value at $.ociVersion (line 1): expected a string", error.Message);
    }
}
